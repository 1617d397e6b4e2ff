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
/// (one-hot) and the user's affinity to the item, fitted to convergence by Newton's method, with
/// the penalty chosen by cross-validated log-loss on the fitted log itself. Clicks are rare (about
/// 0.4%), so an item's own weight rests on a handful of clicks: a model fitted loosely (or with
/// too little penalty) gives the items a policy favours the clicks they happened to get, and the
/// direct method inherits it.
public struct OpenBanditRewardModel: Sendable {
    /// Weights: item (items), position (3), the features' values, affinity (1), bias (1).
    public let weights: [Float]
    public let itemCount: Int
    /// The penalty the weights were fitted with: the objective is the mean log-loss plus
    /// l2/2 · ‖w‖² over every weight but the bias.
    public let l2: Double
    private let featureValues: [[String]], featureOffsets: [Int]

    /// The penalties cross-validation chooses among.
    public static let penalties: [Double] = [1, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4]
    /// Folds of the cross-validation (round i is in fold i mod 5).
    public static let folds = 5

    /// Fits the model to `log`, with the penalty `l2`, or (nil) the one of `penalties` whose
    /// models have the lowest log-loss on the rounds they were not fitted on (0.01 for a log of
    /// fewer than 50 rounds).
    public init(fitting log: OpenBanditLog, l2: Double? = nil) throws {
        itemCount = log.itemCount
        featureValues = log.featureValues
        var offsets: [Int] = [], next = itemCount + 3
        for values in log.featureValues { offsets.append(next); next += values.count }
        featureOffsets = offsets
        let design = Design(log, featureOffsets: offsets, width: next + 2)
        // Too few rounds to hold any out: the middle of the penalties.
        let penalty = try l2 ?? (log.rounds >= 10 * Self.folds ? Self.crossValidatedPenalty(design) : 0.01)
        self.l2 = penalty
        weights = try design.fit(rows: Array(0..<log.rounds), l2: penalty).map(Float.init)
    }

    /// Cross-fitted estimates [rounds, items] (as obp's `fit_predict` with `n_folds`, after
    /// Chernozhukov et al. 2018): round i is in fold i mod `folds`, and its row comes from a model
    /// fitted with the penalty `l2` on the other folds, so no round's estimate has seen its own
    /// click. A model fitted on every round rewards each logged item with the click it got there,
    /// which biases DM and the DR family towards the behaviour policy's own items.
    public static func crossFittedEstimates(for log: OpenBanditLog, folds: Int, l2: Double) throws -> Tensor {
        require(folds >= 2 && log.rounds >= folds, "OpenBanditRewardModel: cross-fitting needs at least 2 folds and a round per fold; \(folds) folds, \(log.rounds) rounds")
        var q = Tensor(zeros: Shape(log.rounds, log.itemCount))
        for fold in 0..<folds {
            let model = try OpenBanditRewardModel(fitting: log.subset((0..<log.rounds).filter { $0 % folds != fold }), l2: l2)
            let held = Array(stride(from: fold, to: log.rounds, by: folds))
            let estimates = model.estimates(for: log.subset(held))
            for (k, i) in held.enumerated() { for a in 0..<log.itemCount { q[i, a] = estimates[k, a] } }
        }
        return q
    }

    /// The penalty of `penalties` with the lowest held-out log-loss over `folds` folds.
    private static func crossValidatedPenalty(_ design: Design) throws -> Double {
        var best = (penalty: penalties[0], loss: Double.infinity)
        for penalty in penalties {
            var loss = 0.0
            for fold in 0..<folds {
                let training = (0..<design.rounds).filter { $0 % folds != fold }
                let w = try design.fit(rows: training, l2: penalty)
                for i in stride(from: fold, to: design.rounds, by: folds) { loss += design.logLoss(i, w) }
            }
            if loss < best.loss { best = (penalty, loss) }
        }
        return best.penalty
    }

    /// The regression's rows, sparse: each has seven one-valued columns (item, position, four
    /// feature values, bias) and the affinity.
    private struct Design {
        let rounds: Int, width: Int
        let ones: [[Int]], affinity: [Double], clicks: [Double]
        /// Each row's nonzero columns and their values (the ones, then the affinity), for the
        /// gradient and Hessian sums.
        let columns: [[Int]], values: [[Double]]
        var affinityColumn: Int { width - 2 }
        var biasColumn: Int { width - 1 }

        init(_ log: OpenBanditLog, featureOffsets: [Int], width: Int) {
            rounds = log.rounds
            self.width = width
            ones = (0..<log.rounds).map { i in
                [Int(log.items[i]), log.itemCount + Int(log.positions[i])] + (0..<4).map { featureOffsets[$0] + Int(log.userFeatures[i][$0]) } + [width - 1]
            }
            affinity = (0..<log.rounds).map { Double(log.affinities[$0, Int(log.items[$0])]) }
            clicks = log.clicks.map(Double.init)
            columns = ones.map { $0 + [width - 2] }
            values = zip(ones, affinity).map { [Double](repeating: 1, count: $0.count) + [$1] }
        }

        func logit(_ i: Int, _ w: [Double]) -> Double { ones[i].reduce(affinity[i] * w[affinityColumn]) { $0 + w[$1] } }

        func logLoss(_ i: Int, _ w: [Double]) -> Double {
            let z = logit(i, w)
            // log(1 + e^z) − y·z, stable for large |z|.
            return max(z, 0) + log1p(exp(-abs(z))) - clicks[i] * z
        }

        func objective(_ rows: [Int], _ w: [Double], _ l2: Double) -> Double {
            var penalty = 0.0
            for j in 0..<(width - 1) { penalty += w[j] * w[j] }
            return rows.reduce(0.0) { $0 + logLoss($1, w) } / Double(rows.count) + l2 / 2 * penalty
        }

        /// Newton's method from the constant model, each step halved until the objective falls;
        /// stops when a step moves no weight by more than 1e-7 (or after 100 steps).
        func fit(rows: [Int], l2: Double) throws -> [Double] {
            let n = Double(rows.count)
            let rate = min(max(rows.reduce(0.0) { $0 + clicks[$1] } / n, 1e-6), 1 - 1e-6)
            var w = [Double](repeating: 0, count: width)
            w[biasColumn] = log(rate / (1 - rate))
            var current = objective(rows, w, l2)
            for _ in 0..<100 {
                var gradient = [Double](repeating: 0, count: width), hessian = [Double](repeating: 0, count: width * width)
                for i in rows {
                    let p = 1 / (1 + exp(-logit(i, w))), residual = (p - clicks[i]) / n, curvature = p * (1 - p) / n
                    for (a, va) in zip(columns[i], values[i]) {
                        gradient[a] += residual * va
                        for (b, vb) in zip(columns[i], values[i]) { hessian[a * width + b] += curvature * va * vb }
                    }
                }
                for j in 0..<(width - 1) { gradient[j] += l2 * w[j]; hessian[j * width + j] += l2 }
                // Positive definite: the penalty covers every weight but the bias, whose curvature
                // is the rows' p(1 − p) > 0.
                let step = try LinearAlgebra.choleskySolve(Tensor(shape: Shape(width, width), scalars: hessian.map(Float.init)),
                                                           Tensor(shape: Shape(width), scalars: gradient.map(Float.init)))
                var scale = 1.0, next = w, value = current
                repeat {
                    for j in 0..<width { next[j] = w[j] - scale * Double(step[flat: j]) }
                    value = objective(rows, next, l2)
                    scale /= 2
                } while !(value <= current) && scale > 1e-6
                guard value.isFinite else {
                    throw NonFiniteError(quantity: "loss", parameter: "the Open Bandit reward model's log-loss", element: 0, value: Float(value))
                }
                let moved = (0..<width).reduce(0.0) { max($0, abs(next[$1] - w[$1])) }
                if value <= current { (w, current) = (next, value) }
                if moved < 1e-7 || value > current { break }
            }
            return w
        }
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
        metadata["drlrec.obd.l2"] = String(l2)
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
        // Files written before the penalty was recorded were fitted with 1e-3.
        let l2 = metadata["drlrec.obd.l2"].flatMap(Double.init) ?? 1e-3
        return (OpenBanditRewardModel(weights: weights.scalars, itemCount: items, featureValues: values, l2: l2), metadata)
    }

    init(weights: [Float], itemCount: Int, featureValues: [[String]], l2: Double) {
        self.weights = weights
        self.l2 = l2
        self.itemCount = itemCount
        self.featureValues = featureValues
        var offsets: [Int] = [], next = itemCount + 3
        for values in featureValues { offsets.append(next); next += values.count }
        featureOffsets = offsets
    }
}
