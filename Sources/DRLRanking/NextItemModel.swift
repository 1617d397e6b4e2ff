import DRLData
import DRLDistributed
import DRLEvaluation
import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A name given to `NextItemModel.freeze`, `factorize` or `prune` that is not a parameter or a
/// module of the model (for `factorize` and `prune`: not a matrix).
public struct UnknownParameterError: Error, CustomStringConvertible {
    public let prefix: String
    public let names: [String]
    public var description: String {
        let modules = Set(names.map { String($0.split(separator: ".").prefix(2).joined(separator: ".")) }).sorted()
        return "'\(prefix)' names no parameter of the model; modules: \(modules.joined(separator: ", "))"
    }
}

/// A sequential next-item recommender trained on logged interactions, in the manner of SASRec
/// (Kang and McAuley, 2018) on DRLRec's `SequenceStateEncoder`: a user's history is a sequence of
/// tokens (item, item category, event kind, and the event's value and the log of the days since
/// the previous interaction), the context is the latest interaction's, and a Linear layer maps the
/// state to a score per item. Training takes windows of N + 1 consecutive interactions and asks
/// every one of the N positions for the next item at once (softmax cross-entropy over the whole
/// catalogue), which is what makes it fast. The epoch with the best validation NDCG@10 is kept.
///
/// With `qLearningWeight` > 0 it is SQN (Xin et al., SIGIR 2020), offline reinforcement learning
/// from the logs: a Q head beside the cross-entropy head reads the same states and learns
/// Q(s_t, a_{t+1}) → r_{t+1} + γ·max_a Q′(s_{t+1}, a) by one-step TD on the logged transitions
/// (the reward is the next event's value over the log's largest, so a 5-star rating is worth 1),
/// with Q′ a Polyak-averaged copy of the head. Both losses train the encoder; the cross-entropy
/// head ranks.
public final class NextItemModel {
    /// The network, its training and its objective (cross-entropy, with SQN's TD loss, the
    /// corrected REINFORCE loss or the novelty reward beside it when their weights are set).
    public struct Configuration: Sendable {
        public var historyLength = 50
        public var dimension = 64, heads = 2
        public var sequenceModel = SequenceStateEncoder.Configuration.SequenceModel.attention
        /// Transformer blocks of the attention model.
        public var blocks = 1
        /// Score each item by its input embedding (weight tying, as SASRec) instead of a head of
        /// its own: the catalogue is learned once, with half the parameters.
        public var tiedOutput = false
        /// A LayerNorm on the sequence model's outputs, and the state without a GELU after the
        /// fusion (`SequenceStateEncoder.Configuration`): with two blocks and the tied output,
        /// SASRec's final norm and dot-product scores (docs/RESULTS.md).
        public var finalNormalization = false, linearState = false
        public var epochs = 30, batchSize = 64
        /// Adam's peak learning rate at `referenceBatchSize`; at another batch size training
        /// uses `scaledLearningRate`.
        public var learningRate: Float = 1e-3
        /// How the learning rate follows the batch size.
        public var learningRateScaling = LearningRateScaling.none
        /// The batch the learning rates of the recipes were tuned at.
        public static let referenceBatchSize = 64
        /// The peak learning rate of training: `learningRate` scaled from `referenceBatchSize`
        /// to `batchSize` by `learningRateScaling`.
        public var scaledLearningRate: Float {
            let ratio = Float(batchSize) / Float(Self.referenceBatchSize)
            return switch learningRateScaling {
            case .none: learningRate
            case .linear: learningRate * ratio
            case .squareRoot: learningRate * ratio.squareRoot()
            }
        }
        /// Adam's decoupled weight decay (AdamW; 0: plain Adam).
        public var weightDecay: Float = 0
        /// How the learning rate moves over the epochs.
        public var learningRateDecay = LearningRateDecay.constant
        /// Epochs of linear warm-up from 0 to the learning rate.
        public var warmupEpochs = 0
        /// Validate, keep and return an exponential moving average of the weights, with this decay
        /// per step, instead of the last weights (nil: the weights themselves).
        public var weightAverage: Float?
        /// Dropout of the encoder's tokens, transformer branches and outputs while training (on
        /// MovieLens it helps only with two blocks and the tied output: docs/RESULTS.md).
        public var dropout: Float = 0
        /// Validate every this many epochs.
        public var validationInterval = 2
        /// Validate and test on this many users with held-out items, drawn at random (the same
        /// users for every seed), instead of all: on logs of millions of users, ranking the whole
        /// catalogue for each would take longer than an epoch (nil: every user).
        public var evaluationUsers: Int?
        /// Stop when this many validations in a row have not improved on the best (nil: train all
        /// the epochs).
        public var patience: Int?
        /// Weight of SQN's TD loss (0: the supervised ranker alone), the discount of later rewards
        /// (in SQN's TD target and in the corrected REINFORCE's return) and the target head's
        /// Polyak rate.
        public var qLearningWeight: Float = 0, gamma: Float = 0.5, targetRate: Float = 0.01
        /// Also train the item head by REINFORCE with the top-K off-policy correction (nil:
        /// cross-entropy alone).
        public var reinforce: CorrectedReinforce?
        /// Train the cross-entropy head on sampled negatives with the log-Q correction instead of
        /// the whole catalogue (nil: the full softmax): for catalogues of 10⁵ items and more.
        public var sampledSoftmax: SampledSoftmax?
        public init() {}

        /// The recipe that reaches a converged SASRec's level on MovieLens-100K (five seeds:
        /// HR@10 0.205, NDCG@10 0.108; docs/RESULTS.md): two pre-LN blocks, tied item embeddings,
        /// the final norm and the linear state, dropout 0.2, up to 150 epochs stopped 20
        /// validations after the best. The defaults stay the one-block ranker's, which every
        /// recorded deployment figure was measured with.
        public static var converged: Configuration {
            var c = Configuration()
            (c.blocks, c.tiedOutput, c.finalNormalization, c.linearState) = (2, true, true, true)
            (c.dropout, c.epochs, c.patience) = (0.2, 150, 20)
            return c
        }
    }

    /// REINFORCE with the top-K off-policy correction of Chen et al. (WSDM 2019) for the item
    /// head, the policy π, beside its cross-entropy: the loss is cross-entropy + α·REINFORCE, where
    /// REINFORCE weighs each logged position's −log π(a | s) by min(π(a | s)/β(a | s), c)·λ_K·R,
    /// normalised to mean 1 over the batch's positions. β is a behaviour head that learns the
    /// logged choices (no gradient into the encoder), λ_K = K·(1 − π(a | s))^(K−1) corrects for
    /// recommending K items at once, and R is the discounted return of the ratings from that
    /// position to the end of the window. The cross-entropy keeps the policy on the logged data.
    public struct CorrectedReinforce: Sendable, Equatable {
        /// α: the REINFORCE loss's weight beside the cross-entropy.
        public var weight: Float
        /// K: items recommended at once.
        public var slateSize: Int
        /// c: the cap on π/β.
        public var weightCap: Float
        /// λ: the reward also counts the recommended item's novelty, its self-information −log₂ p(a)
        /// in the training log over the largest possible (an item seen once): 0 for the most
        /// popular item, 1 for the rarest. Novelty is known for every item, so this part enters the
        /// loss as its exact expectation under the policy, −α·λ·E_π[novelty], not through the
        /// logged samples.
        public var noveltyReward: Float
        public init(weight: Float = 0.1, slateSize: Int = 10, weightCap: Float = 10, noveltyReward: Float = 0) {
            require(weight > 0 && slateSize >= 1 && weightCap > 0 && noveltyReward >= 0,
                    "CorrectedReinforce: weight \(weight), slate size \(slateSize) and weight cap \(weightCap) must be positive, novelty reward \(noveltyReward) non-negative")
            (self.weight, self.slateSize, self.weightCap, self.noveltyReward) = (weight, slateSize, weightCap, noveltyReward)
        }
    }

    /// The cross-entropy estimated from a sample of the catalogue (`SampledSoftmaxLoss`): every
    /// batch draws `negatives` items from Q ∝ (training count + 1)^`exponent`, shared by all its
    /// positions (and, in data-parallel training, by all ranks), and each logit is corrected by
    /// −log Q. Exponent 0 samples uniformly; 1 in proportion to popularity, the harder negatives.
    /// Evaluation still ranks the whole catalogue. It trains the cross-entropy head alone: SQN's
    /// target, the corrected REINFORCE and distillation read every item's logit.
    public struct SampledSoftmax: Sendable, Equatable {
        public var negatives: Int
        public var exponent: Float
        public init(negatives: Int = 1024, exponent: Float = 0.75) {
            require(negatives >= 1 && exponent >= 0 && exponent.isFinite, "SampledSoftmax: \(negatives) negatives and exponent \(exponent)")
            (self.negatives, self.exponent) = (negatives, exponent)
        }
    }

    /// The learning rate after warm-up: constant, or a cosine from the learning rate to 0 at the
    /// last epoch (an early stop cuts it short).
    public enum LearningRateDecay: String, Sendable, CaseIterable { case constant, cosine }

    /// How the learning rate follows the batch size: unchanged, in proportion to it (the rule of
    /// large-batch SGD, with a warm-up), or with its square root (the rule for Adam, which keeps
    /// the update's noise scale).
    public enum LearningRateScaling: String, Sendable, CaseIterable { case none, linear, squareRoot = "sqrt" }

    public let configuration: Configuration
    public let encoder: SequenceStateEncoder
    /// The item scores from the state: a `Linear` head, or a `TiedOutput` on the item embedding.
    public let output: Layer
    /// SQN's Q head and its target copy (trained only when `qLearningWeight` > 0; one item wide otherwise).
    public let qHead: Linear, qTarget: Linear
    /// The behaviour head β of the corrected REINFORCE (trained only when `reinforce` is set; one item wide otherwise).
    public let behaviorHead: Linear
    public let store: ParameterStore
    /// Validation NDCG@10 after each validation, with its epoch.
    public private(set) var validationCurve: [(epoch: Int, ndcg: Double)] = []
    /// What the last `train` did: its training windows per epoch, the epochs it ran, the seconds
    /// its batches took (validation left out) in this process, and of those the seconds spent in
    /// the collectives of data-parallel training (waiting for the other ranks included).
    public private(set) var trainingThroughput = (windowsPerEpoch: 0, epochs: 0, seconds: 0.0, collectiveSeconds: 0.0)
    /// Item ids by index, and the context columns' names: the vocabulary of the log the model was
    /// made for, which every split it trains or is evaluated on must share.
    public let itemIds: [String], contextColumns: [String]
    /// How often each item occurs in the logs the model was made for (and, for a model loaded
    /// from a checkpoint, in those it was trained on before).
    var trainingItemCounts: [Float]
    let categories: [Int32]
    /// SQN's reward is an event's value over this, the log's largest value.
    let largestValue: Float
    // Workspace of SQN's TD step, reused from batch to batch.
    private var tdGradient = Buffer(), combinedGradient = Buffer()
    // Workspace of the corrected REINFORCE.
    private let behaviorLoss = SoftmaxCrossEntropyLoss()
    private var positionWeights: [Float] = []
    /// Each item's novelty in the training log (see `CorrectedReinforce.noveltyReward`).
    private var itemNovelty = Tensor(zeros: Shape(0))
    private let noveltyExpectation = SoftmaxExpectation()
    // Workspace of distillation.
    private var softStudent = Buffer(), softTeacher = Buffer(), distilledGradient = Buffer()
    private var bootstrap: [Float] = []
    /// REINFORCE's self-normaliser's sums (weights, positions), summed over the ranks in place.
    private var reinforceTotals = [0.0, 0.0]
    private var singleObservation = Tensor(zeros: Shape(0, 0))
    /// Matrices stored compressed, by name (see `NextItemModelCompression.swift`).
    public internal(set) var compression: [String: MatrixCompression] = [:]

    /// Why `split` cannot train and evaluate a next-item model (nil when it can): its metrics rank
    /// 10 items, so the log needs at least 10, and leave-one-out needs a user with three
    /// interactions (one to train on, one to validate, one to test).
    public static func dataProblem(_ split: LeaveOneOutSplit) -> String? {
        if split.items < 10 { return "has \(split.items) items; the next-item model is measured on its top 10, so it needs at least 10" }
        if !split.testRow.contains(where: { $0 != nil }) || !split.trainRows.contains(where: { !$0.isEmpty }) {
            return "has no user with three interactions: leave-one-out keeps each user's last for test and the one before for validation"
        }
        return nil
    }

    /// A model for `log`'s users and items; `categories` gives each item's category (0..<count).
    public convenience init(log: LoggedInteractions, categories: [Int32], configuration: Configuration = Configuration(), seed: UInt64) {
        var counts = [Float](repeating: 0, count: log.itemCount)
        for item in log.items { counts[Int(item)] += 1 }
        self.init(itemIds: log.itemIds, contextColumns: log.contextColumns, itemCounts: counts, categories: categories,
                  configuration: configuration, largestValue: max(log.values.max() ?? 1, 1e-6), seed: seed)
    }

    /// The same for interactions by user: a log mapped from its cache (`InteractionCache`) makes
    /// the same model as the log read into memory.
    public convenience init(sequences: UserSequences, categories: [Int32], configuration: Configuration = Configuration(), seed: UInt64) {
        self.init(itemIds: sequences.itemIds, contextColumns: sequences.contextColumns, itemCounts: sequences.itemCounts, categories: categories,
                  configuration: configuration, largestValue: max(sequences.largestValue, 1e-6), seed: seed)
    }

    init(itemIds: [String], contextColumns: [String], itemCounts: [Float], categories: [Int32], configuration: Configuration, largestValue: Float,
         seed: UInt64) {
        require(categories.count == itemIds.count, "NextItemModel: \(categories.count) categories for \(itemIds.count) items")
        self.configuration = configuration
        (self.itemIds, self.contextColumns, trainingItemCounts) = (itemIds, contextColumns, itemCounts)
        self.categories = categories
        self.largestValue = largestValue
        var layout = SequenceStateEncoder.Configuration(items: itemIds.count, categories: Int(categories.max() ?? 0) + 1,
                                                        eventTypes: FeedbackKind.allCases.count, historyLength: configuration.historyLength,
                                                        engagementFeatures: 2, contextFeatures: max(contextColumns.count, 1))
        layout.dimension = configuration.dimension
        layout.heads = configuration.heads
        layout.outputDimension = configuration.dimension
        layout.sequenceModel = configuration.sequenceModel
        layout.blocks = configuration.blocks
        layout.dropout = configuration.dropout
        layout.finalNormalization = configuration.finalNormalization
        layout.linearState = configuration.linearState
        var rng = RandomGenerator(seed: seed, stream: 0x5A5)
        encoder = SequenceStateEncoder(layout, using: &rng)
        let items = itemIds.count
        let head = Linear(configuration.dimension, items, using: &rng)  // drawn either way: tying leaves the other weights as they were
        output = configuration.tiedOutput ? TiedOutput(encoder.itemEmbedding, rows: items) : head
        // Drawn last, so their sizes move no other weight: a head its objective does not train is
        // one item wide (at 10⁵ items each would hold 50 MB of weights and as much of gradient).
        let qItems = configuration.qLearningWeight > 0 ? items : 1, behaviorItems = configuration.reinforce != nil ? items : 1
        qHead = Linear(configuration.dimension, qItems, using: &rng)
        qTarget = Linear(configuration.dimension, qItems, using: &rng)
        behaviorHead = Linear(configuration.dimension, behaviorItems, using: &rng)
        store = ParameterStore(prefixedParameters([("encoder", encoder), ("output", output)]
                                                  + (configuration.qLearningWeight > 0 ? [("q", qHead)] : [])
                                                  + (configuration.reinforce != nil ? [("behavior", behaviorHead)] : [])))
        resetTargetHead()
    }

    /// Writes the observation row of `rows` of `data` (one user's, oldest first, at most N: padded in front).
    private func encode(_ rows: Range<Int>, of data: UserSequences, into observation: UnsafeMutableBufferPointer<Float>) {
        let columns = contextColumns.count, start = rows.lowerBound
        writeObservation(count: rows.count, context: { j in rows.last.map { data.context[$0 * columns + j] } ?? 0 },
                         item: { Int(data.items[start + $0]) }, event: { data.event(start + $0) },
                         value: { data.values[start + $0] }, timestamp: { data.timestamps[start + $0] }, into: observation)
    }

    /// Writes one observation row from `count` events (oldest first, at most N: padded in front),
    /// read through the accessors; the context is the latest event's.
    func writeObservation(count: Int, context: (Int) -> Float, item: (Int) -> Int, event: (Int) -> FeedbackKind,
                          value: (Int) -> Float, timestamp: (Int) -> Int64, into observation: UnsafeMutableBufferPointer<Float>) {
        let layout = encoder.configuration, n = layout.historyLength, width = layout.tokenWidth
        for k in 0..<observation.count { observation[k] = 0 }
        if count > 0 {
            for j in 0..<contextColumns.count { observation[j] = context(j) }
        }
        let padding = n - count
        for t in 0..<n {
            let base = layout.contextFeatures + t * width
            guard t >= padding else { observation[base] = -1; continue }
            let k = t - padding, current = item(k)
            observation[base] = Float(current)
            observation[base + 1] = Float(categories[current])
            observation[base + 2] = Float(event(k).rawValue)
            observation[base + 3] = value(k)
            let previous = k > 0 ? k - 1 : k
            observation[base + 4] = log1pf(Float(max(timestamp(k) - timestamp(previous), 0)) / 86_400)
        }
    }

    /// Knowledge distillation (Hinton et al., 2015): the model also learns the teacher's
    /// next-item distribution at every position, softened by the temperature, with the soft loss
    /// weighted by `weight` (and T², so its gradients keep their scale).
    public struct Distillation {
        public var teacher: NextItemModel
        public var temperature: Float, weight: Float
        public init(teacher: NextItemModel, temperature: Float = 2, weight: Float = 1) {
            (self.teacher, self.temperature, self.weight) = (teacher, temperature, weight)
        }
    }

    /// Trains on the split's training rows, validating on its validation items; with
    /// `distillation`, also on the teacher's soft targets.
    ///
    /// With a `group` of several processes, training is data-parallel: every rank runs this with
    /// the same model, split and seed, so all draw the same batches; each computes the gradient of
    /// its own share of every batch (scaled so that the shares add up to the batch's gradient),
    /// one all-reduce sums the flat gradient buffer, and every rank takes the same step. The ranks'
    /// dropout masks differ; everything else each rank computes alike (validation included). After
    /// every epoch a hash of the parameters is compared over the ranks, and a difference stops
    /// training with `TrainingError.diverged`.
    public func train(on split: LeaveOneOutSplit, seed: UInt64, distillation: Distillation? = nil, group: ProcessGroup = SingleProcess(),
                      progress: (Int, Float, Double?) -> Void = { _, _, _ in }) throws(TrainingError) {
        let group = TimedProcessGroup(group)
        if let d = distillation {
            require(d.teacher.itemIds == itemIds && d.teacher.encoder.configuration.observationDimension == encoder.configuration.observationDimension,
                    "NextItemModel: a teacher must have the student's items and history length")
            require(d.temperature > 0 && d.weight >= 0, "NextItemModel: temperature \(d.temperature), weight \(d.weight)")
        }
        let data = split.sequences
        require(data.itemIds == itemIds && data.contextColumns == contextColumns,
                "NextItemModel: the split must index items and name context columns as the model does")
        let c = configuration, n = c.historyLength, dimension = encoder.configuration.observationDimension
        require(c.patience.map { $0 >= 1 } ?? true, "NextItemModel: patience \(c.patience!) must be at least one validation")
        require(c.weightAverage.map { $0 > 0 && $0 < 1 } ?? true, "NextItemModel: weight average decay \(c.weightAverage!) must be in (0, 1)")
        // Windows of N + 1 rows, cut from the end of each user's training sequence.
        var windows: [Range<Int>] = []
        for rows in split.trainRows where rows.count >= 2 {
            var end = rows.upperBound
            while end - rows.lowerBound >= 2 {
                windows.append(max(rows.lowerBound, end - n - 1)..<end)
                end -= n
            }
        }
        if let r = c.reinforce, r.noveltyReward > 0 {
            // Over the largest, log₂ of the total (an item seen once); a log of one interaction has no spread.
            let counts = split.trainingCounts, total = counts.reduce(0, +), largest = max(log2(total), 1)
            itemNovelty = Tensor(shape: Shape(counts.count), scalars: counts.map { $0 > 0 ? log2(total / $0) / largest : 1 })
        }
        var rng = RandomGenerator(seed: seed, stream: 0x5A6)
        var sampledLoss: SampledSoftmaxLoss?, negatives: [Int32] = [], negativeStream = RandomGenerator(seed: seed, stream: 0x5A7)
        if let sampled = c.sampledSoftmax {
            require(c.qLearningWeight == 0 && c.reinforce == nil && distillation == nil,
                    "NextItemModel: sampled softmax trains the cross-entropy head alone (SQN, the corrected REINFORCE and distillation read every item's logit)")
            let (weight, bias) = outputParameters
            sampledLoss = SampledSoftmaxLoss(weight: weight, rows: itemIds.count, bias: bias,
                                             proposal: split.trainingCounts.map { pow($0 + 1, sampled.exponent) })
            negatives = [Int32](repeating: 0, count: sampled.negatives)
        }
        // A collective that fails inside the encoder's forward pass, reported after it.
        var failedCollective: ProcessGroupError?
        if group.size > 1 {
            encoder.useDropoutStream(UInt64(group.rank))
            encoder.combineStatistics { sums in
                guard failedCollective == nil else { return }
                do throws(ProcessGroupError) { try group.allReduceSum(sums) } catch { failedCollective = error }
            }
        }
        defer { if group.size > 1 { encoder.combineStatistics(nil) } }
        let optimizer = Adam(store, learningRate: c.scaledLearningRate, weightDecay: c.weightDecay, decoupledWeightDecay: true)
        let loss = SoftmaxCrossEntropyLoss()
        let batch = Tensor(workspace: Shape(c.batchSize, dimension))
        var targets = [Int32](), weights = Tensor(workspace: Shape(c.batchSize * n))
        var best: (ndcg: Double, values: Tensor)?
        var sinceBest = 0
        let batchesPerEpoch = (windows.count + c.batchSize - 1) / c.batchSize
        let warmup = c.warmupEpochs * batchesPerEpoch, steps = c.epochs * batchesPerEpoch
        let schedule: LearningRateSchedule = switch c.learningRateDecay {
        case .constant: .linearWarmup(peak: c.scaledLearningRate, warmupSteps: warmup)
        case .cosine: .cosine(peak: c.scaledLearningRate, warmupSteps: warmup, totalSteps: steps)
        }
        var step = 0
        var averaged = c.weightAverage != nil ? store.values.clone() : Tensor(zeros: Shape(0))
        trainingThroughput = (windows.count, 0, 0, 0)
        for epoch in 1...c.epochs {
            rng.shuffle(&windows)
            encoder.isTraining = true
            encoder.outputsEveryPosition = true
            var total: Float = 0, batches = 0
            let epochStart = ContinuousClock.now
            for start in stride(from: 0, to: windows.count, by: c.batchSize) {
                let whole = windows[start..<min(start + c.batchSize, windows.count)]
                // This rank's share of the batch; the normalisers below count the whole batch.
                let chunk = whole[(whole.startIndex + whole.count * group.rank / group.size)..<(whole.startIndex + whole.count * (group.rank + 1) / group.size)]
                let rows = chunk.count
                let real = whole.reduce(0) { $0 + min($1.count - 1, n) }
                // Every rank draws the batch's negatives, so that all keep drawing the same.
                sampledLoss?.sampleNegatives(into: &negatives, using: &negativeStream)
                if rows == 0 {
                    // Nothing of this batch here: a zero gradient, and the batch's collectives.
                    store.zeroGradients()
                    if encoder.isTraining { encoder.contributeNoRows() }
                    if let failedCollective { throw .collective(failedCollective) }
                    if c.reinforce != nil {
                        reinforceTotals[0] = 0
                        reinforceTotals[1] = 0
                        try group.sum(&reinforceTotals)
                    }
                    try takeStep(group: group, optimizer: optimizer, schedule: schedule, step: &step, averaged: &averaged)
                    batches += 1
                    continue
                }
                var view = batch[rows: 0..<rows]
                targets.removeAll(keepingCapacity: true)
                view.withUnsafeMutableBufferPointer { b in
                    for (r, window) in chunk.enumerated() {
                        // Inputs: all but the last row; the target at each position is the next row's item.
                        encode(window.dropLast(), of: data, into: UnsafeMutableBufferPointer(rebasing: b[(r * dimension)..<((r + 1) * dimension)]))
                        let inputs = window.count - 1, padding = n - inputs
                        for t in 0..<n {
                            let isTarget = t >= padding
                            targets.append(isTarget ? data.items[window.lowerBound + t - padding + 1] : 0)
                            weights[flat: r * n + t] = isTarget ? 1 : 0
                        }
                    }
                }
                // The loss is the mean over the real positions (scaled in place: `weights` is a workspace).
                let scale = Float(rows * n) / Float(max(real, 1))
                var w = weights[rows: 0..<(rows * n)]
                scal(scale, &w)
                store.zeroGradients()
                let states = encoder.forward(view).reshaped(Shape(rows * n, c.dimension))
                if let failedCollective { throw .collective(failedCollective) }
                if let sampledLoss {
                    total += sampledLoss(states, targets: targets, weights: w, negatives: negatives)
                    batches += 1
                    encoder.backwardParametersOnly(sampledLoss.inputGradient.reshaped(Shape(rows, n, c.dimension)))
                    try takeStep(group: group, optimizer: optimizer, schedule: schedule, step: &step, averaged: &averaged)
                    continue
                }
                let logits = output.forward(states)
                total += loss(logits, targets: targets, weights: w)
                batches += 1
                var dLogits = loss.gradient
                if let reinforce = c.reinforce {
                    try addCorrectedReinforce(reinforce, to: &dLogits, states: states, logits: logits, crossEntropy: loss,
                                              windows: chunk, of: data, targets: targets, weights: w, group: group)
                }
                if let distillation {
                    dLogits = distillationGradient(distillation, inputs: view, studentLogits: logits, hardGradient: dLogits, weights: w)
                }
                var dStates = output.backward(dLogits)
                if c.qLearningWeight > 0 {
                    var combined = combinedGradient.view(dStates.shape)
                    combined.copy(from: dStates)
                    // Over the whole batch's transitions (a real position followed by another).
                    let transitions = whole.reduce(0) { $0 + max(min($1.count - 1, n) - 1, 0) }
                    combined += temporalDifferenceGradient(states: states, windows: chunk, of: data, targets: targets, transitions: transitions)
                    dStates = combined
                }
                encoder.backwardParametersOnly(dStates.reshaped(Shape(rows, n, c.dimension)))
                try takeStep(group: group, optimizer: optimizer, schedule: schedule, step: &step, averaged: &averaged)
            }
            trainingThroughput.epochs += 1
            trainingThroughput.seconds += Double((ContinuousClock.now - epochStart) / .nanoseconds(1)) / 1e9
            trainingThroughput.collectiveSeconds = group.seconds
            if group.size > 1 {
                // Each rank's losses are its shares of the batches' means.
                var sum = [Double(total)]
                try group.sum(&sum)
                total = Float(sum[0])
                let range = try group.range(store.valuesHash())
                guard range.lowerBound == range.upperBound else { throw .diverged(epoch: epoch, hashes: range) }
            }
            // A compressed model trains by projected gradient descent: its compressed matrices go
            // back to their rank or sparsity after every epoch, so each validated state is one it
            // can store.
            reapplyCompression()
            var ndcg: Double?
            if epoch % c.validationInterval == 0 || epoch == c.epochs {
                // With averaging, the average is what is validated (the training weights go back after).
                let current = c.weightAverage != nil ? store.values.clone() : nil
                var values = store.values
                if current != nil { values.copy(from: averaged) }
                let metrics = evaluate(split, on: .validation)
                ndcg = metrics.ndcg
                validationCurve.append((epoch, metrics.ndcg))
                if metrics.ndcg > best?.ndcg ?? -1 { (best, sinceBest) = ((metrics.ndcg, store.values.clone()), 0) } else { sinceBest += 1 }
                if let current { values.copy(from: current) }
            }
            progress(epoch, total / Float(max(batches, 1)), ndcg)
            if let patience = c.patience, sinceBest >= patience { break }
        }
        if let best { var values = store.values; values.copy(from: best.values) }
        encoder.isTraining = false
        encoder.outputsEveryPosition = false
    }

    /// The item head's weight [items, dimension] (its own, or the tied embedding table) and bias.
    private var outputParameters: (weight: Parameter, bias: Parameter?) {
        if let tied = output as? TiedOutput { return (tied.embedding.weight, tied.bias) }
        let head = output as! Linear
        return (head.weight, head.bias)
    }

    /// Sums the ranks' gradients (a group of one has the whole batch's already), then one
    /// optimizer step, the weight average and the target head's Polyak update.
    private func takeStep(group: ProcessGroup, optimizer: Adam, schedule: LearningRateSchedule, step: inout Int, averaged: inout Tensor)
        throws(TrainingError) {
        let c = configuration
        if group.size > 1 {
            var gradients = store.gradients
            try group.sum(&gradients)
        }
        optimizer.learningRate = schedule.learningRate(at: step)
        step += 1
        do { try optimizer.update() } catch { throw .nonFinite(error) }
        if let decay = c.weightAverage {
            scal(decay, &averaged)
            axpy(1 - decay, store.values, &averaged)
        }
        if c.qLearningWeight > 0 {
            for (target, source) in zip(qTarget.namedParameters, qHead.namedParameters) {
                var value = target.parameter.value
                scal(1 - c.targetRate, &value)
                axpy(c.targetRate, source.parameter.value, &value)
            }
        }
    }

    /// The hard loss's gradient plus the soft loss's, weight·T·(softmax(s/T) − softmax(t/T)) per
    /// position, scaled as the hard loss scales its rows (padding positions have weight 0).
    private func distillationGradient(_ d: Distillation, inputs: Tensor, studentLogits: Tensor, hardGradient: Tensor, weights: Tensor) -> Tensor {
        let teacher = d.teacher
        let wasTraining = teacher.encoder.isTraining, wasEvery = teacher.encoder.outputsEveryPosition
        (teacher.encoder.isTraining, teacher.encoder.outputsEveryPosition) = (false, true)
        defer { (teacher.encoder.isTraining, teacher.encoder.outputsEveryPosition) = (wasTraining, wasEvery) }
        let teacherLogits = teacher.output.forward(teacher.encoder.forward(inputs).reshaped(Shape(studentLogits.shape[0], teacher.configuration.dimension)))
        var student = softStudent.view(studentLogits.shape), target = softTeacher.view(studentLogits.shape)
        student.copy(from: studentLogits)
        target.copy(from: teacherLogits)
        scal(1 / d.temperature, &student)
        scal(1 / d.temperature, &target)
        softmaxInPlace(&student)
        softmaxInPlace(&target)
        var combined = distilledGradient.view(studentLogits.shape)
        combined.copy(from: hardGradient)
        let (rows, cols) = studentLogits.shape.matrix
        let scale = d.weight * d.temperature / Float(rows)
        combined.withUnsafeMutableBufferPointer { g in
            student.withUnsafeBufferPointer { ps in
                target.withUnsafeBufferPointer { pt in
                    for r in 0..<rows {
                        let w = weights[flat: r] * scale
                        guard w != 0 else { continue }
                        for c in 0..<cols { g[r * cols + c] += w * (ps[r * cols + c] - pt[r * cols + c]) }
                    }
                }
            }
        }
        return combined
    }

    /// Turns `gradient`, the cross-entropy's gradient of the item logits (the loss's workspace,
    /// scaled in place), into that of cross-entropy + α·REINFORCE: each position's row times
    /// 1 + α·(its REINFORCE weight; see `CorrectedReinforce`). Also trains the behaviour head on the
    /// logged items, from the states as they are (its gradient does not reach the encoder).
    private func addCorrectedReinforce(_ r: CorrectedReinforce, to gradient: inout Tensor, states: Tensor, logits: Tensor,
                                       crossEntropy: SoftmaxCrossEntropyLoss, windows: ArraySlice<Range<Int>>, of data: UserSequences,
                                       targets: [Int32], weights: Tensor, group: ProcessGroup) throws(TrainingError) {
        let n = configuration.historyLength, items = itemIds.count, rows = windows.count * n
        let behaviorLogits = behaviorHead.forward(states)
        _ = behaviorLoss(behaviorLogits, targets: targets, weights: weights)
        behaviorHead.backwardParametersOnly(behaviorLoss.gradient)
        if positionWeights.count < rows { positionWeights = [Float](repeating: 0, count: rows) }
        let policyLSE = crossEntropy.logSumExps, behaviorLSE = behaviorLoss.logSumExps
        let k = Float(r.slateSize)
        var sum: Float = 0, real = 0
        for (b, window) in windows.enumerated() {
            let padding = n - (window.count - 1)
            var ret: Float = 0
            for t in stride(from: n - 1, through: 0, by: -1) {
                let row = b * n + t
                guard t >= padding else { positionWeights[row] = 0; continue }
                ret = data.values[window.lowerBound + t - padding + 1] / largestValue + configuration.gamma * ret
                let a = Int(targets[row])
                let pi = exp(logits[row, a] - policyLSE[flat: row]), beta = exp(behaviorLogits[row, a] - behaviorLSE[flat: row])
                let ratio = beta > 0 ? min(pi / beta, r.weightCap) : r.weightCap
                let weight = ratio * k * pow(1 - pi, k - 1) * ret
                positionWeights[row] = weight
                sum += weight
                real += 1
            }
        }
        if group.size > 1 {
            // Self-normalised over the whole batch: its weights' sum and positions over the ranks.
            reinforceTotals[0] = Double(sum)
            reinforceTotals[1] = Double(real)
            try group.sum(&reinforceTotals)
            (sum, real) = (Float(reinforceTotals[0]), Int(reinforceTotals[1]))
        }
        let normaliser = sum > 0 ? Float(real) / sum : 0
        require(gradient.isWorkspace, "NextItemModel: the cross-entropy gradient is scaled in place")
        gradient.withUnsafeMutableBufferPointer { g in
            for row in 0..<rows {
                let scale = 1 + r.weight * (positionWeights[row] * normaliser)  // padding rows are 0 already
                for j in 0..<items { g[row * items + j] *= scale }
            }
        }
        if r.noveltyReward > 0 {
            // The novelty of recommending an item is known for every item, so its expectation under
            // the policy is exact: no logged sample, no correction.
            _ = noveltyExpectation(logits, values: itemNovelty, weights: weights)
            axpy(-r.weight * r.noveltyReward, noveltyExpectation.gradient, &gradient)
        }
    }

    /// SQN's TD loss on the batch's transitions (position t → t + 1 of a window, both real):
    /// accumulates its gradient into the Q head and returns the gradient for the states, both
    /// scaled by `qLearningWeight` over `transitions` (the whole batch's, `windows` being this
    /// rank's share of it).
    private func temporalDifferenceGradient(states: Tensor, windows: ArraySlice<Range<Int>>, of data: UserSequences, targets: [Int32],
                                            transitions: Int) -> Tensor {
        let c = configuration, n = c.historyLength, items = itemIds.count, rows = windows.count * n
        let next = qTarget.forward(states)
        if bootstrap.count < rows { bootstrap = [Float](repeating: 0, count: rows) }
        next.withUnsafeBufferPointer { v in
            for r in 0..<rows {
                var best = -Float.infinity
                for a in 0..<items { best = max(best, v[r * items + a]) }
                bootstrap[r] = best
            }
        }
        let q = qHead.forward(states)
        var dq = tdGradient.view(Shape(rows, items))
        dq.fill(with: 0)
        for (b, window) in windows.enumerated() {
            let padding = n - (window.count - 1)
            for t in 0..<(n - 1) where t >= padding {
                let row = b * n + t, action = Int(targets[row])
                let reward = data.values[window.lowerBound + t - padding + 1] / largestValue
                dq[row, action] = q[row, action] - (reward + c.gamma * bootstrap[row + 1])
            }
        }
        scal(c.qLearningWeight / Float(max(transitions, 1)), &dq)
        return qHead.backward(dq)
    }

    /// Every item's score for one user: `history` oldest first (only the last N are read), and the
    /// context of the latest interaction (one value per context column). The returned [1, items]
    /// tensor is the model's workspace, valid until its next call; not for concurrent calls.
    public func score(history: ArraySlice<UserEvent>, context: [Float]) -> Tensor {
        require(context.count == contextColumns.count,
                "NextItemModel.score: \(context.count) context values for the columns \(contextColumns)")
        let dimension = encoder.configuration.observationDimension
        if singleObservation.shape != Shape(1, dimension) { singleObservation = Tensor(zeros: Shape(1, dimension)) }
        let events = history.suffix(configuration.historyLength), start = events.startIndex
        singleObservation.withUnsafeMutableBufferPointer { o in
            writeObservation(count: events.count, context: { context[$0] }, item: { Int(events[start + $0].item) },
                             event: { events[start + $0].event }, value: { events[start + $0].value },
                             timestamp: { events[start + $0].timestamp }, into: o)
        }
        encoder.isTraining = false
        encoder.outputsEveryPosition = false
        return output.forward(encoder.forward(singleObservation))
    }

    /// Soft freezing for fine-tuning: every parameter named `prefix` or under it ("encoder",
    /// "encoder.sequence", "output", as the checkpoint names them) is left alone by the optimizer,
    /// and a frozen normalizer keeps its statistics, so frozen modules come out bit-identical.
    /// Returns the frozen names; a prefix that names nothing is an error.
    @discardableResult
    public func freeze(_ prefixes: [String]) throws(UnknownParameterError) -> [String] {
        func matches(_ name: String, _ prefix: String) -> Bool { name == prefix || name.hasPrefix(prefix + ".") }
        for prefix in prefixes where !store.parameters.contains(where: { matches($0.name, prefix) }) {
            throw UnknownParameterError(prefix: prefix, names: store.parameters.map(\.name))
        }
        var frozen: [String] = []
        for (name, parameter) in store.parameters where prefixes.contains(where: { matches(name, $0) }) {
            parameter.isFrozen = true
            frozen.append(name)
        }
        for (name, normalizer) in [("encoder.context_normalizer", encoder.contextNormalizer), ("encoder.engagement_normalizer", encoder.engagementNormalizer)]
        where prefixes.contains(where: { matches(name, $0) }) {
            normalizer.updatesStatistics = false
        }
        return frozen
    }

    /// Takes `source`'s weights as its own, to train on from there (an RL agent on top of a
    /// trained ranker): every parameter of the encoder and the item head must be in `source` under
    /// the same name and shape; the heads only this model's objective trains (SQN's Q head, the
    /// behaviour head) keep their initialisation.
    public func startFrom(_ source: NextItemModel) {
        require(source.itemIds == itemIds && source.contextColumns == contextColumns,
                "NextItemModel.startFrom: the source model is for other items or context columns")
        let theirs = Dictionary(source.store.parameters.map { ($0.name, $0.parameter) }) { first, _ in first }
        for (name, parameter) in store.parameters where name.hasPrefix("encoder.") || name.hasPrefix("output.") {
            let other = theirs[name]
            require(other?.value.shape == parameter.value.shape,
                    "NextItemModel.startFrom: the source model has no parameter \(name) of shape \(parameter.value.shape) (another network?)")
            var value = parameter.value  // a workspace tensor: the copy lands in the parameter
            value.copy(from: other!.value)
        }
        resetTargetHead()
    }

    /// Makes the target Q head a copy of the Q head.
    func resetTargetHead() {
        for (target, source) in zip(qTarget.namedParameters, qHead.namedParameters) {
            var value = target.parameter.value  // a workspace tensor: the copy lands in the parameter
            value.copy(from: source.parameter.value)
        }
    }

    /// Ranking metrics on the validation items (from the training history) or the test items (from
    /// the training history and the validation item).
    public func evaluate(_ split: LeaveOneOutSplit, on heldOut: HeldOut, k: Int = 10) -> RankingMetrics {
        evaluate(split, on: heldOut, cutoffs: [k])[0]
    }

    /// The same at several cutoffs, one ranking of the whole catalogue per user (see
    /// `evaluateRanking(_:on:users:cutoffs:categories:score:)`), over every user with a held-out
    /// item or, with `configuration.evaluationUsers`, that many of them. Users are scored a block
    /// at a time, so the scores held at once are a block's, whatever the number of users.
    public func evaluate(_ split: LeaveOneOutSplit, on heldOut: HeldOut, cutoffs: [Int], categories: [Int32]? = nil) -> [RankingMetrics] {
        require(split.sequences.itemIds == itemIds, "NextItemModel.evaluate: the split must index items as the model does")
        let users = evaluatedUsers(split)
        let data = split.sequences, items = itemIds.count, n = configuration.historyLength
        let dimension = encoder.configuration.observationDimension
        let wasTraining = encoder.isTraining, wasEvery = encoder.outputsEveryPosition
        encoder.isTraining = false
        encoder.outputsEveryPosition = false
        defer { (encoder.isTraining, encoder.outputsEveryPosition) = (wasTraining, wasEvery) }
        // At most 2^24 scores (64 MB) a block, and 256 users.
        let block = max(1, min(256, (1 << 24) / items))
        var observations = Tensor(zeros: Shape(block, dimension)), logits = Tensor(zeros: Shape(0, items))
        var next = 0, blockStart = 0
        return evaluateRanking(split, on: heldOut, users: users, cutoffs: cutoffs, categories: categories) { user, out in
            // The ranking asks for `users` in order: past the block, the next block is scored.
            if next == blockStart + logits.shape[0] {
                blockStart = next
                let members = users[next..<min(next + block, users.count)]
                observations.withUnsafeMutableBufferPointer { o in
                    for (r, member) in members.enumerated() {
                        // The training rows, and the validation row right after them when testing.
                        var history = split.trainRows[member]
                        if heldOut == .test, split.validationRow[member] != nil { history = history.lowerBound..<(history.upperBound + 1) }
                        encode(history.suffix(n), of: data, into: UnsafeMutableBufferPointer(rebasing: o[(r * dimension)..<((r + 1) * dimension)]))
                    }
                }
                logits = output.forward(encoder.forward(observations[rows: 0..<members.count]))
            }
            require(users[next] == user, "NextItemModel.evaluate: users scored out of order")
            let row = next - blockStart
            next += 1
            out.withUnsafeMutableBufferPointer { o in
                logits.withUnsafeBufferPointer { s in for i in 0..<items { o[i] = s[row * items + i] } }
            }
        }
    }

    /// The users an evaluation ranks for: all with a held-out item, or `evaluationUsers` of them
    /// drawn without replacement from a fixed stream (the same users for every model and seed),
    /// in order.
    func evaluatedUsers(_ split: LeaveOneOutSplit) -> [Int] {
        var users = (0..<split.users).filter { split.testRow[$0] != nil }
        guard let wanted = configuration.evaluationUsers, wanted < users.count else { return users }
        var rng = RandomGenerator(seed: 0, stream: 0xE7A)
        for k in 0..<wanted { users.swapAt(k, k + rng.nextIndex(below: users.count - k)) }
        return users[..<wanted].sorted()
    }
}
