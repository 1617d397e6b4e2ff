import DRLTensor

/// Layers applied in order; parameters are named by position ("0.weight", "2.bias").
public final class Sequential: Layer {
    public let layers: [Layer]
    /// When false (the default for a model's first container), the first layer skips computing the
    /// gradient with respect to the model input, which nothing uses.
    public var computesInputGradient: Bool

    public init(_ layers: [Layer], computesInputGradient: Bool = true) {
        require(!layers.isEmpty, "Sequential needs at least one layer")
        self.layers = layers
        self.computesInputGradient = computesInputGradient
    }

    public convenience init(_ layers: Layer...) { self.init(layers) }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixedParameters(layers.enumerated().map { (String($0.offset), $0.element as Module) })
    }

    public var isTraining: Bool {
        get { layers[0].isTraining }
        set { for layer in layers { layer.isTraining = newValue } }
    }

    public func forward(_ input: Tensor) -> Tensor {
        var x = input
        for layer in layers { x = layer.forward(x) }
        return x
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        var g = gradOutput
        for layer in layers.reversed() { g = layer.backward(g) }
        return g
    }

    public func backwardParametersOnly(_ gradOutput: Tensor) {
        var g = gradOutput
        for i in stride(from: layers.count - 1, to: 0, by: -1) { g = layers[i].backward(g) }
        layers[0].backwardParametersOnly(g)
    }

    /// Backward through the whole stack, computing the input gradient only if `computesInputGradient`.
    /// Returns nil when it is not computed.
    @discardableResult
    public func backwardFromLoss(_ gradOutput: Tensor) -> Tensor? {
        if computesInputGradient { return backward(gradOutput) }
        backwardParametersOnly(gradOutput)
        return nil
    }
}

extension Sequential {
    /// A multilayer perceptron: Linear layers of the given sizes with `activation` between them
    /// (none after the last). Its first layer skips the input gradient (`computesInputGradient`).
    public static func mlp(_ sizes: [Int], activation: Activation = .relu, using rng: inout RandomGenerator) -> Sequential {
        require(sizes.count >= 2, "an MLP needs at least an input and an output size, got \(sizes)")
        var layers: [Layer] = []
        for i in 0..<(sizes.count - 1) {
            layers.append(Linear(sizes[i], sizes[i + 1], using: &rng))
            if i < sizes.count - 2 { layers.append(ActivationLayer(activation)) }
        }
        return Sequential(layers, computesInputGradient: false)
    }
}
