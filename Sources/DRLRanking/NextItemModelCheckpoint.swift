import DRLData
import DRLNN
import DRLTensor

/// A `NextItemModel` in one safetensors file that describes itself: the weights, the items'
/// categories (tensor `item_categories`), and in the metadata the configuration, the item ids and
/// the context columns, so the model can be rebuilt without its training log: to serve it, or to
/// fine-tune it on new feedback.
extension NextItemModel {
    /// The kind of model its checkpoints name (metadata `ModelCheckpoint.modelKindKey`).
    public static let checkpointKind = "next-item"
    private static let prefix = "drlrec.next_item."

    /// Writes the model; with `servingOnly`, without SQN's Q head and the corrected REINFORCE's
    /// behaviour head, which only train (the file then loads as a supervised model: fine-tuning it
    /// trains neither).
    public func save(to path: String, servingOnly: Bool = false) throws(CheckpointError) {
        let c = configuration
        var metadata: [String: String] = [
            ModelCheckpoint.modelKindKey: Self.checkpointKind,
            Self.prefix + "history_length": String(c.historyLength),
            Self.prefix + "dimension": String(c.dimension),
            Self.prefix + "heads": String(c.heads),
            Self.prefix + "sequence_model": c.sequenceModel.rawValue,
            Self.prefix + "blocks": String(c.blocks),
            Self.prefix + "dropout": String(c.dropout),
            Self.prefix + "tied_output": String(c.tiedOutput),
            Self.prefix + "q_learning_weight": String(servingOnly ? 0 : c.qLearningWeight),
            Self.prefix + "gamma": String(c.gamma),
            Self.prefix + "target_rate": String(c.targetRate),
            Self.prefix + "largest_value": String(largestValue),
            // CSV ids cannot hold a line break, so one id per line is unambiguous.
            Self.prefix + "items": itemIds.joined(separator: "\n"),
            Self.prefix + "context_columns": contextColumns.joined(separator: "\n"),
        ]
        // Written only when on: a file without them reads as off, so earlier models' files are unchanged.
        if c.finalNormalization { metadata[Self.prefix + "final_norm"] = "true" }
        if c.linearState { metadata[Self.prefix + "linear_state"] = "true" }
        // How it was trained, for the record (not needed to load it).
        for (key, value) in Self.trainingRecord(c) { metadata[Self.prefix + "training." + key] = value }
        if let r = c.reinforce, !servingOnly {
            metadata[Self.prefix + "reinforce_weight"] = String(r.weight)
            metadata[Self.prefix + "reinforce_slate_size"] = String(r.slateSize)
            metadata[Self.prefix + "reinforce_weight_cap"] = String(r.weightCap)
            metadata[Self.prefix + "reinforce_novelty_reward"] = String(r.noveltyReward)
        }
        let categoryTensor = Tensor(shape: Shape(categories.count), scalars: categories.map(Float.init))
        let countTensor = Tensor(shape: Shape(itemCounts.count), scalars: itemCounts)
        var tensors: [(name: String, tensor: Tensor)] = []
        var stored: [String] = []
        for (name, parameter) in store.parameters where !(servingOnly && (name.hasPrefix("q.") || name.hasPrefix("behavior."))) {
            guard let form = compression[name] else { tensors.append((name, parameter.value)); continue }
            let (parts, description) = Self.compressedTensors(name, parameter.value, form)
            tensors += parts
            stored.append(description)
        }
        metadata[Self.prefix + "compression"] = stored.joined(separator: ",")
        try SafeTensors.write(tensors + [("item_categories", categoryTensor), ("item_counts", countTensor)], metadata: metadata, to: path)
    }

    /// The training hyperparameters a checkpoint records (metadata `drlrec.next_item.training.*`).
    static func trainingRecord(_ c: Configuration) -> [String: String] {
        ["epochs": String(c.epochs), "batch_size": String(c.batchSize), "learning_rate": String(c.learningRate),
         "learning_rate_scaling": c.learningRateScaling.rawValue, "scaled_learning_rate": String(c.scaledLearningRate),
         "warmup_epochs": String(c.warmupEpochs), "learning_rate_decay": c.learningRateDecay.rawValue, "weight_decay": String(c.weightDecay),
         "weight_average": String(c.weightAverage ?? 0), "patience": String(c.patience ?? 0), "validation_interval": String(c.validationInterval)]
            // Recorded only when set: files of models trained and evaluated as before stay as they were.
            .merging(c.evaluationUsers.map { ["evaluation_users": String($0)] } ?? [:]) { first, _ in first }
            .merging(c.sampledSoftmax.map { ["sampled_softmax_negatives": String($0.negatives), "sampled_softmax_exponent": String($0.exponent)] } ?? [:]) { first, _ in first }
    }

    /// The training hyperparameters recorded in the checkpoint at `path` (empty for a file written
    /// before they were recorded).
    public static func recordedTraining(at path: String) throws(CheckpointError) -> [String: String] {
        let metadata = try SafeTensors.describe(path).metadata
        let key = prefix + "training."
        return Dictionary(uniqueKeysWithValues: metadata.filter { $0.key.hasPrefix(key) }.map { (String($0.key.dropFirst(key.count)), $0.value) })
    }

    /// The model saved at `path`. With `log`, the model trains on it: the log must index items as
    /// the model does (`LoggedInteractions(contextColumns:items:)` with the model's `itemIds`,
    /// holding no other items) and have its context columns; without it the model only scores.
    /// `epochs` and `learningRate`, when given, replace the saved ones for further training.
    public static func load(from path: String, log: LoggedInteractions? = nil, epochs: Int? = nil,
                            learningRate: Float? = nil) throws(CheckpointError) -> NextItemModel {
        try load(from: path, sequences: log.map(UserSequences.init), epochs: epochs, learningRate: learningRate)
    }

    /// The same with the training interactions by user (a log mapped from its cache, read with
    /// the model's `itemIds` as `InteractionCache.Reading.items`).
    public static func load(from path: String, sequences log: UserSequences?, epochs: Int? = nil,
                            learningRate: Float? = nil) throws(CheckpointError) -> NextItemModel {
        func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
        let header = try SafeTensors.describe(path)
        let metadata = header.metadata
        let kindKey = ModelCheckpoint.modelKindKey
        guard metadata[kindKey] == checkpointKind else {
            throw refuse("metadata '\(kindKey)' is \(metadata[kindKey].map { "'\($0)'" } ?? "missing"): the file is not a next-item model")
        }
        func field(_ name: String) throws(CheckpointError) -> String {
            guard let text = metadata[prefix + name] else { throw refuse("metadata '\(prefix + name)' is missing") }
            return text
        }
        func number<T: LosslessStringConvertible>(_ name: String, _: T.Type) throws(CheckpointError) -> T {
            let text = try field(name)
            guard let value = T(text) else { throw refuse("metadata '\(prefix + name)' is '\(text)', not a number") }
            return value
        }
        var c = Configuration()
        c.historyLength = try number("history_length", Int.self)
        c.dimension = try number("dimension", Int.self)
        c.heads = try number("heads", Int.self)
        let model = try field("sequence_model")
        guard let sequenceModel = SequenceStateEncoder.Configuration.SequenceModel(rawValue: model) else {
            throw refuse("metadata '\(prefix)sequence_model' is '\(model)', not one of \(SequenceStateEncoder.Configuration.SequenceModel.allCases.map(\.rawValue))")
        }
        c.sequenceModel = sequenceModel
        /// A yes-or-no field; files written before it existed had it off.
        func flag(_ name: String) throws(CheckpointError) -> Bool {
            guard let text = metadata[prefix + name] else { return false }
            guard let value = Bool(text) else { throw refuse("metadata '\(prefix + name)' is '\(text)', not true or false") }
            return value
        }
        // Files written before stacks, dropout and tying had one block, trained without dropout and had a head of their own.
        c.blocks = metadata[prefix + "blocks"] != nil ? try number("blocks", Int.self) : 1
        c.dropout = metadata[prefix + "dropout"] != nil ? try number("dropout", Float.self) : 0
        c.tiedOutput = try flag("tied_output")
        c.finalNormalization = try flag("final_norm")
        c.linearState = try flag("linear_state")
        guard c.blocks >= 1, c.dropout >= 0, c.dropout < 1 else {
            throw refuse("metadata says \(c.blocks) blocks and dropout \(c.dropout); a model has at least one block and dropout in [0, 1)")
        }
        c.qLearningWeight = try number("q_learning_weight", Float.self)
        c.gamma = try number("gamma", Float.self)
        c.targetRate = try number("target_rate", Float.self)
        if metadata[prefix + "reinforce_weight"] != nil {
            let (weight, slateSize, cap) = (try number("reinforce_weight", Float.self), try number("reinforce_slate_size", Int.self),
                                            try number("reinforce_weight_cap", Float.self))
            // Files written before the novelty reward existed trained without it.
            let novelty = metadata[prefix + "reinforce_novelty_reward"] != nil ? try number("reinforce_novelty_reward", Float.self) : 0
            guard weight > 0, slateSize >= 1, cap > 0, novelty >= 0 else {
                throw refuse("the corrected REINFORCE's weight \(weight), slate size \(slateSize) or weight cap \(cap) is not positive, or its novelty reward \(novelty) is negative")
            }
            c.reinforce = NextItemModel.CorrectedReinforce(weight: weight, slateSize: slateSize, weightCap: cap, noveltyReward: novelty)
        }
        let largestValue = try number("largest_value", Float.self)
        c.epochs = epochs ?? c.epochs
        c.learningRate = learningRate ?? c.learningRate
        guard c.historyLength > 0, c.dimension > 0, c.heads > 0, c.dimension % c.heads == 0, largestValue > 0 else {
            throw refuse("history length \(c.historyLength), dimension \(c.dimension), heads \(c.heads) or largest value \(largestValue) is invalid")
        }
        let items = try field("items").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let contextText = try field("context_columns")
        let contextColumns = contextText.isEmpty ? [] : contextText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard Set(items).count == items.count, !items.contains("") else { throw refuse("metadata '\(prefix)items' has empty or repeated ids") }
        // The model is built from the metadata: check its sizes against the tensors the file holds
        // before anything is allocated from them (a compressed head is stored in other tensors,
        // checked when they are read).
        let shapes = Dictionary(header.tensors.map { ($0.name, $0.shape) }) { first, _ in first }
        for (name, expected) in [("encoder.position.weight", [c.historyLength, c.dimension]), ("output.weight", [items.count, c.dimension])]
            where name != "output.weight" || shapes[name] != nil {
            guard shapes[name] == expected else {
                throw refuse("tensor '\(name)' is \(shapes[name].map { "of shape \($0)" } ?? "missing"), but the metadata (history length \(c.historyLength), dimension \(c.dimension), \(items.count) items) makes it \(expected)")
            }
        }
        if c.sequenceModel == .attention && c.blocks > 1 {
            let last = "encoder.sequence.\(c.blocks - 1).ln1.weight"
            guard shapes[last] == [c.dimension], shapes["encoder.sequence.\(c.blocks).ln1.weight"] == nil else {
                throw refuse("the metadata says \(c.blocks) transformer blocks, but tensor '\(last)' is \(shapes[last].map { "of shape \($0)" } ?? "missing") or there are more")
            }
        }

        if let log {
            guard log.itemIds == items else {
                throw refuse("the training log indexes \(log.itemCount) items differently from the model's \(items.count): build it with LoggedInteractions(contextColumns:items:) or read it with the model's items")
            }
            guard log.contextColumns == contextColumns else {
                throw refuse("the training log's context columns \(log.contextColumns) are not the model's \(contextColumns)")
            }
        }
        // The categories are read before the model exists: the embedding's size depends on them.
        let tensors = try SafeTensors.read(from: path).tensors
        func itemTensor(_ name: String) throws(CheckpointError) -> Tensor {
            guard let tensor = tensors.first(where: { $0.name == name })?.tensor, tensor.shape == Shape(items.count) else {
                throw refuse("tensor '\(name)' is missing or not of shape [\(items.count)]")
            }
            return tensor
        }
        let categoryTensor = try itemTensor("item_categories")
        let counts = try itemTensor("item_counts").scalars
        guard counts.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw refuse("tensor 'item_counts' holds a negative or non-finite count") }
        var categories: [Int32] = []
        for i in 0..<items.count {
            let value = categoryTensor[flat: i]
            guard value >= 0, value < 65_536, value == value.rounded() else { throw refuse("item_categories[\(i)] is \(value), not a category index") }
            categories.append(Int32(value))
        }
        var logCounts = [Float](repeating: 0, count: items.count)
        if let log { for item in log.items { logCounts[Int(item)] += 1 } }
        let result = NextItemModel(itemIds: items, contextColumns: contextColumns, itemCounts: zip(counts, logCounts).map { $0 + $1 },
                                   categories: categories, configuration: c, largestValue: largestValue, seed: 0)
        var stored: [String: StoredMatrix] = [:]
        for entry in (metadata[prefix + "compression"] ?? "").split(separator: ",") {
            guard let matrix = StoredMatrix(String(entry), in: result.store) else {
                throw refuse("metadata '\(prefix)compression' entry '\(entry)' is not 'name:low_rank:r' or 'name:sparse:nonzeros' for a matrix of the model")
            }
            stored[matrix.name] = matrix
            result.compression[matrix.name] = matrix.form
        }
        // Every tensor is checked by name and shape before any is used; compressed matrices are
        // then expanded into their parameters.
        var destinations: [(name: String, tensor: Tensor)] = [
            ("item_categories", Tensor(workspace: Shape(items.count))), ("item_counts", Tensor(workspace: Shape(items.count)))]
        for (name, parameter) in result.store.parameters {
            if let matrix = stored[name] { destinations += matrix.parts } else { destinations.append((name, parameter.value)) }
        }
        try SafeTensors.load(from: path, into: destinations)
        for matrix in stored.values {
            do throws(StoredMatrix.Invalid) { try matrix.expand() } catch { throw refuse(error.description) }
        }
        result.encoder.isTraining = false
        result.resetTargetHead()
        return result
    }

    /// How often each item occurs in the logs the model was trained on: its log, plus for a
    /// model loaded from a checkpoint the counts saved there.
    public var itemCounts: [Float] { trainingItemCounts }
}
