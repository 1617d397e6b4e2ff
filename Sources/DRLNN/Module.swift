import DRLTensor

/// Anything with parameters and a training mode: layers, embeddings, whole models.
public protocol Module: AnyObject {
    /// This module's parameters and its submodules', in a stable order, with names relative to
    /// this module ("weight", "0.bias", "encoder.2.weight").
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    /// Training mode (dropout active) or evaluation mode. Containers pass it on to their children.
    var isTraining: Bool { get set }
}

/// A differentiable map from one tensor to another, with a hand-written backward pass.
///
/// `forward` caches what `backward` needs (its input, as a view, and any statistics) and returns
/// the layer's own output buffer, valid until its next `forward`. `backward` takes the gradient
/// with respect to that output, accumulates (+=) into its parameters' gradients, and returns the
/// gradient with respect to the input, again a buffer of the layer's own, valid until its next
/// `backward`. Inputs are [batch, features] or [batch, time, features]; the leading dimensions can
/// change from call to call, and buffers grow to the largest batch seen, so steady-state calls
/// allocate nothing.
public protocol Layer: Module {
    func forward(_ input: Tensor) -> Tensor
    func backward(_ gradOutput: Tensor) -> Tensor
    /// Backward when nobody needs the input gradient (the first layer of a model): accumulates the
    /// parameter gradients only. Layers that can skip work override it.
    func backwardParametersOnly(_ gradOutput: Tensor)
}

extension Layer {
    public func backwardParametersOnly(_ gradOutput: Tensor) { _ = backward(gradOutput) }
}

extension Module {
    /// Marks every parameter frozen: optimizers leave them unchanged.
    public func freeze() { for (_, p) in namedParameters { p.isFrozen = true } }
    public func unfreeze() { for (_, p) in namedParameters { p.isFrozen = false } }
}

/// The named parameters of `children`, each prefixed with its child's name ("block.ln1.weight"):
/// how containers name their parameters, and how to gather several modules into one store.
public func prefixedParameters(_ children: [(String, Module)]) -> [(name: String, parameter: Parameter)] {
    children.flatMap { prefix, child in child.namedParameters.map { (prefix + "." + $0.name, $0.parameter) } }
}

/// A workspace tensor that grows to the largest leading dimension asked of it and hands out views
/// of the rows in use: layers keep one per activation they store.
public struct Buffer {
    private var storage = Tensor(workspace: Shape(0))
    private var capacity = 0

    public init() {}

    /// A view of shape `shape` (allocating only when it needs more elements than ever before).
    public mutating func view(_ shape: Shape) -> Tensor {
        let n = shape.elementCount
        if n > capacity {
            capacity = n
            storage = Tensor(workspace: Shape(n))
        }
        return storage[rows: 0..<n].reshaped(shape)
    }
}
