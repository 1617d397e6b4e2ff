import DRLTensor

/// Saving and restoring a model's parameters, and optionally its optimizer, as one safetensors
/// file. Parameters are stored under their names in the `ParameterStore` ("0.weight", as in a
/// PyTorch state_dict of the same Sequential), optimizer tensors under "optimizer.<name>", and the
/// optimizer's step count in the metadata. Restoring both resumes training exactly (random
/// generators outside the model, such as a Dropout's, are the caller's to restore).
public enum ModelCheckpoint {
    static let stepKey = "optimizer.step"

    public static func save(_ store: ParameterStore, optimizer: Optimizer? = nil, metadata: [String: String] = [:],
                            to path: String) throws(CheckpointError) {
        var tensors = store.parameters.map { (name: $0.name, tensor: $0.parameter.value) }
        var fields = metadata
        if let optimizer {
            precondition(optimizer.store === store, "ModelCheckpoint.save: the optimizer updates another ParameterStore")
            tensors += optimizer.state.map { (name: "optimizer." + $0.name, tensor: $0.tensor) }
            fields[stepKey] = String(optimizer.step)
        }
        try SafeTensors.write(tensors, metadata: fields, to: path)
    }

    /// Loads the parameters (and the optimizer's state, when given) in place. The file must hold
    /// exactly those tensors, with the same names and shapes; nothing is changed otherwise.
    public static func load(from path: String, into store: ParameterStore, optimizer: Optimizer? = nil) throws(CheckpointError) {
        var destinations = store.parameters.map { (name: $0.name, tensor: $0.parameter.value) }
        var step: Int? = nil
        if let optimizer {
            precondition(optimizer.store === store, "ModelCheckpoint.load: the optimizer updates another ParameterStore")
            let metadata = try SafeTensors.read(from: path).metadata
            guard let text = metadata[stepKey], let value = Int(text), value >= 0 else {
                throw CheckpointError(path: path, reason: .invalidHeader(
                    "metadata '\(stepKey)' is missing or not a non-negative integer: the file holds no optimizer state"))
            }
            step = value
            destinations += optimizer.state.map { (name: "optimizer." + $0.name, tensor: $0.tensor) }
        }
        try SafeTensors.load(from: path, into: destinations)
        if let optimizer, let step { optimizer.restore(step: step) }
    }
}
