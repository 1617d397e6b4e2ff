import DRLData
import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The direct method's reward model for the Open Bandit Dataset: L2-regularised logistic
/// regression of the click on the item, the position, the user's four categorical features
/// (one-hot) and the user's affinity to the item, fitted by full-batch Adam on the log's rounds.
public struct OpenBanditRewardModel: Sendable {
    /// Weights: item (items), position (3), the features' values, affinity (1), bias (1).
    public let weights: [Float]
    public let itemCount: Int
    private let featureValues: [[String]], featureOffsets: [Int]

    public init(fitting log: OpenBanditLog, l2: Float = 1e-3, epochs: Int = 300, seed: UInt64 = 0) throws(NonFiniteError) {
        itemCount = log.itemCount
        featureValues = log.featureValues
        var offsets: [Int] = [], next = itemCount + 3
        for values in log.featureValues { offsets.append(next); next += values.count }
        featureOffsets = offsets
        let width = next + 2
        var x = Tensor(zeros: Shape(log.rounds, width))
        for i in 0..<log.rounds {
            x[i, Int(log.items[i])] = 1
            x[i, itemCount + Int(log.positions[i])] = 1
            for f in 0..<4 { x[i, offsets[f] + Int(log.userFeatures[i][f])] = 1 }
            x[i, width - 2] = log.affinities[i, Int(log.items[i])]
            x[i, width - 1] = 1
        }
        var rng = RandomGenerator(seed: seed, stream: 0x10B)
        let model = Linear(width, 1, bias: false, using: &rng)
        let store = ParameterStore(model)
        let optimizer = Adam(store, learningRate: 0.05, weightDecay: l2)
        let loss = BinaryCrossEntropyWithLogitsLoss()
        let targets = Tensor(shape: Shape(log.rounds, 1), scalars: log.clicks)
        for _ in 0..<epochs {
            store.zeroGradients()
            _ = loss(model.forward(x), targets)
            model.backwardParametersOnly(loss.gradient)
            try optimizer.update()
        }
        weights = (0..<width).map { model.weight.value[0, $0] }
    }

    /// q̂(round i, a) for every item a, at the round's own position: [rounds, items], for any log
    /// of the same items (user features are matched by their values, and a value the fitted log
    /// never had contributes nothing).
    public func estimates(for log: OpenBanditLog) -> Tensor {
        require(log.itemCount == itemCount, "OpenBanditRewardModel: fitted on \(itemCount) items; asked about a log of \(log.itemCount)")
        // The log's number for each feature value → the model's weight index (nil: unseen).
        let columns: [[Int?]] = (0..<4).map { f in
            let known = Dictionary(uniqueKeysWithValues: featureValues[f].enumerated().map { ($1, $0) })
            return log.featureValues[f].map { known[$0].map { featureOffsets[f] + $0 } }
        }
        var q = Tensor(zeros: Shape(log.rounds, itemCount))
        let affinityWeight = weights[weights.count - 2], bias = weights[weights.count - 1]
        for i in 0..<log.rounds {
            var base = bias + weights[itemCount + Int(log.positions[i])]
            for f in 0..<4 {
                if let column = columns[f][Int(log.userFeatures[i][f])] { base += weights[column] }
            }
            for a in 0..<itemCount {
                let logit = base + weights[a] + affinityWeight * log.affinities[i, a]
                q[i, a] = 1 / (1 + expf(-logit))
            }
        }
        return q
    }
}

extension OpenBanditRewardModel {
    static let kind = "obd-reward-model"

    /// Writes the model (and what the caller records about it, such as the policy's exploration
    /// and the rounds it was fitted on) to a safetensors file.
    public func save(to path: String, metadata extra: [String: String] = [:]) throws(CheckpointError) {
        var metadata = extra
        metadata[ModelCheckpoint.modelKindKey] = Self.kind
        metadata["drlrec.obd.items"] = String(itemCount)
        // Feature values hold no line break or unit separator (they come from CSV fields).
        metadata["drlrec.obd.feature_values"] = featureValues.map { $0.joined(separator: "\u{1F}") }.joined(separator: "\n")
        try SafeTensors.write([("weights", Tensor(shape: Shape(weights.count), scalars: weights))], metadata: metadata, to: path)
    }

    /// The model saved at `path`, and the file's metadata.
    public static func load(from path: String) throws(CheckpointError) -> (model: OpenBanditRewardModel, metadata: [String: String]) {
        func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
        let (tensors, metadata) = try SafeTensors.read(from: path)
        let kindKey = ModelCheckpoint.modelKindKey
        guard metadata[kindKey] == kind else {
            throw refuse("metadata '\(kindKey)' is \(metadata[kindKey].map { "'\($0)'" } ?? "missing"): the file is not an Open Bandit reward model")
        }
        guard let items = metadata["drlrec.obd.items"].flatMap(Int.init), items > 0 else { throw refuse("metadata 'drlrec.obd.items' is missing or not a positive integer") }
        let lines = (metadata["drlrec.obd.feature_values"] ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 4 else { throw refuse("metadata 'drlrec.obd.feature_values' must list the values of 4 user features") }
        let values = lines.map { $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init) }
        let width = items + 3 + values.reduce(0) { $0 + $1.count } + 2
        guard let weights = tensors.first(where: { $0.name == "weights" })?.tensor, weights.shape == Shape(width) else {
            throw refuse("tensor 'weights' is missing or not of shape [\(width)] (\(items) items, 3 positions, the feature values, affinity and bias)")
        }
        return (OpenBanditRewardModel(weights: weights.scalars, itemCount: items, featureValues: values), metadata)
    }

    init(weights: [Float], itemCount: Int, featureValues: [[String]]) {
        self.weights = weights
        self.itemCount = itemCount
        self.featureValues = featureValues
        var offsets: [Int] = [], next = itemCount + 3
        for values in featureValues { offsets.append(next); next += values.count }
        featureOffsets = offsets
    }
}
