import DRLTensor

/// A trainable tensor: its value, the gradient that backward passes accumulate into, a name that
/// is stable across runs (checkpoints are keyed by it) and whether it is frozen.
///
/// `value` and `gradient` are workspace tensors: layers and optimizers update them in place, and
/// once a model's parameters are gathered into a `ParameterStore` they are views into its two flat
/// buffers.
public final class Parameter {
    /// Name relative to the layer that owns it, such as "weight" or "bias".
    public let name: String
    public internal(set) var value: Tensor
    public internal(set) var gradient: Tensor
    /// Frozen parameters keep their value: optimizers skip them.
    public var isFrozen = false

    /// A zero-filled parameter of `shape`.
    public init(_ name: String, shape: Shape) {
        self.name = name
        value = Tensor(workspace: shape)
        gradient = Tensor(workspace: shape)
    }

    public var shape: Shape { value.shape }
}
