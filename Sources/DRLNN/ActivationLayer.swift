import DRLTensor

/// An elementwise nonlinearity as a layer (ReLU, GELU, tanh, sigmoid, softplus, ...).
public final class ActivationLayer: Layer {
    public let activation: Activation
    public var isTraining = true
    private var input = Tensor(zeros: Shape(0))
    private var output = Buffer()
    private var gradInput = Buffer()

    public init(_ activation: Activation) { self.activation = activation }

    public var namedParameters: [(name: String, parameter: Parameter)] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        var y = output.view(x.shape)
        activation.forward(x, into: &y)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        var dx = gradInput.view(input.shape)
        activation.backward(input: input, gradOutput: gradOutput, into: &dx)
        return dx
    }
}

extension ActivationLayer {
    public static func relu() -> ActivationLayer { ActivationLayer(.relu) }
    public static func gelu() -> ActivationLayer { ActivationLayer(.gelu) }
    public static func tanh() -> ActivationLayer { ActivationLayer(.tanh) }
    public static func sigmoid() -> ActivationLayer { ActivationLayer(.sigmoid) }
    public static func softplus() -> ActivationLayer { ActivationLayer(.softplus) }
}
