import DRLTensor

/// One model of a checkpoint, with its optimizer when the checkpoint should resume training. A
/// checkpoint may hold several, such as an agent's online and target networks: each part's tensors
/// are stored under its `prefix` followed by their names in the `ParameterStore`.
public struct CheckpointPart {
    public let prefix: String
    public let store: ParameterStore
    public let optimizer: Optimizer?

    public init(prefix: String = "", store: ParameterStore, optimizer: Optimizer? = nil) {
        require(optimizer == nil || optimizer!.store === store,
                "CheckpointPart '\(prefix)': the optimizer updates another ParameterStore")
        self.prefix = prefix
        self.store = store
        self.optimizer = optimizer
    }

    var stepKey: String { prefix + "optimizer.step" }

    /// The parameters under their names in a checkpoint, without the optimizer's state.
    public var parameterTensors: [(name: String, tensor: Tensor)] {
        store.parameters.map { (name: prefix + $0.name, tensor: $0.parameter.value) }
    }

    var tensors: [(name: String, tensor: Tensor)] {
        parameterTensors
            + (optimizer?.state.map { (name: prefix + "optimizer." + $0.name, tensor: $0.tensor) } ?? [])
    }
}

/// Saving and restoring models' parameters, and optionally their optimizers, as one safetensors
/// file. Parameters are stored under their names in the `ParameterStore` ("0.weight", as in a
/// PyTorch state_dict of the same Sequential), optimizer tensors under "optimizer.<name>", and the
/// optimizer's step count in the metadata, all behind the part's prefix. Restoring both resumes
/// training exactly (random generators outside the model, such as a Dropout's, are the caller's
/// to restore). Writes are atomic.
public enum ModelCheckpoint {
    /// The metadata entry in which a DRLRec model checkpoint names its kind of model ("next-item",
    /// "obd-reward-model"), so that a reader can tell what a file holds before building anything.
    public static let modelKindKey = "drlrec.model"

    public static func save(_ store: ParameterStore, optimizer: Optimizer? = nil, metadata: [String: String] = [:],
                            to path: String) throws(CheckpointError) {
        try save([CheckpointPart(store: store, optimizer: optimizer)], metadata: metadata, to: path)
    }

    /// Saves every part, and `extra` tensors under their own names (a replay buffer's, say).
    public static func save(_ parts: [CheckpointPart], extra: [(name: String, tensor: Tensor)] = [],
                            metadata: [String: String] = [:], to path: String) throws(CheckpointError) {
        var fields = metadata
        for part in parts where part.optimizer != nil { fields[part.stepKey] = String(part.optimizer!.step) }
        try SafeTensors.write(parts.flatMap(\.tensors) + extra, metadata: fields, to: path)
    }

    /// Loads the parameters (and the optimizer's state, when given) in place. The file must hold
    /// exactly those tensors, with the same names and shapes; nothing is changed otherwise.
    public static func load(from path: String, into store: ParameterStore, optimizer: Optimizer? = nil) throws(CheckpointError) {
        _ = try load(from: path, into: [CheckpointPart(store: store, optimizer: optimizer)])
    }

    /// Loads every part, and the `extra` tensors, in place and returns the file's metadata.
    /// `validate` sees the metadata first and may throw to refuse the file before anything changes.
    @discardableResult
    public static func load(from path: String, into parts: [CheckpointPart], extra: [(name: String, tensor: Tensor)] = [],
                            validate: ([String: String]) throws(CheckpointError) -> Void = { _ throws(CheckpointError) in })
        throws(CheckpointError) -> [String: String] {
        let metadata = try SafeTensors.describe(path).metadata
        try validate(metadata)
        var steps: [Int?] = []
        for part in parts {
            guard part.optimizer != nil else { steps.append(nil); continue }
            guard let text = metadata[part.stepKey], let value = Int(text), value >= 0 else {
                throw CheckpointError(path: path, reason: .invalidHeader(
                    "metadata '\(part.stepKey)' is missing or not a non-negative integer: the file holds no optimizer state"))
            }
            steps.append(value)
        }
        try SafeTensors.load(from: path, into: parts.flatMap(\.tensors) + extra)
        for (part, step) in zip(parts, steps) { if let step { part.optimizer!.restore(step: step) } }
        return metadata
    }
}
