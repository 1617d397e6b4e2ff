import ArgumentParser
import DRLNN
import DRLRanking

extension NextItemModel.LearningRateDecay: ExpressibleByArgument {}
extension NextItemModel.LearningRateScaling: ExpressibleByArgument {}

/// The sequential ranker's network and training, shared by `drlrec fit` and `drlrec evaluate`
/// (whose RL agents train the same network with their own objectives). Each option not given
/// takes the value of the --recipe's `NextItemModel.Configuration`.
struct RankerOptions: ParsableArguments {
    enum Recipe: String, ExpressibleByArgument, CaseIterable {
        case oneBlock = "one-block", converged
        var configuration: NextItemModel.Configuration { self == .converged ? .converged : NextItemModel.Configuration() }
    }

    @Option(help: "Where the options below start from: one-block (the defaults: one transformer block, its own output head, no dropout, 30 epochs) or converged (two blocks, tied output, final norm, linear state, dropout 0.2, up to 150 epochs with patience 20: a converged SASRec's level on MovieLens, docs/RESULTS.md).")
    var recipe = Recipe.oneBlock

    @Option(parsing: .unconditional, help: "Training epochs at most (the epoch with the best validation NDCG@10 is kept).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many validations in a row (one every two epochs) without a better validation NDCG@10; 0 trains every epoch.", valueName: "validations"))
    var patience: Int?

    @Option(parsing: .unconditional, help: "Transformer blocks of the attention encoder.")
    var blocks: Int?

    @Flag(inversion: .prefixedNo, help: "Score each item by its input embedding (weight tying) instead of a head of its own.")
    var tiedOutput: Bool?

    @Flag(inversion: .prefixedNo, help: "Normalise the sequence model's outputs by a LayerNorm (a transformer stack's final norm).")
    var finalNorm: Bool?

    @Flag(inversion: .prefixedNo, help: "Take the state from the fusion Linear without a GELU after it (with --tied-output: SASRec's dot-product scores).")
    var linearState: Bool?

    @Option(parsing: .unconditional, help: "Dropout of the encoder's tokens, transformer branches and outputs while training.")
    var dropout: Float?

    @Option(parsing: .unconditional, help: "Adam's learning rate.")
    var learningRate: Float?

    @Option(help: "Learning rate after the warm-up: constant, or cosine (from --learning-rate to 0 at the last epoch).")
    var learningRateDecay: NextItemModel.LearningRateDecay?

    @Option(parsing: .unconditional, help: "Epochs of linear warm-up of the learning rate from 0.")
    var warmupEpochs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Validate and keep an exponential moving average of the weights with this decay per step (0: the weights themselves).", valueName: "decay"))
    var weightAverage: Float?

    @Option(parsing: .unconditional, help: "Training windows per batch.")
    var batchSize: Int?

    @Option(help: ArgumentHelp("How the learning rate follows --batch-size from the batch of 64 it is given for: none, linear (in proportion, with a warm-up) or sqrt (with its square root, Adam's rule).", valueName: "rule"))
    var learningRateScaling: NextItemModel.LearningRateScaling?

    @Option(parsing: .unconditional, help: "Adam's decoupled weight decay (AdamW).")
    var weightDecay: Float?

    @Option(parsing: .unconditional, help: "Interactions of history the model reads.")
    var history: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Train the item head on this many negatives a batch, sampled with the log-Q correction, instead of the whole catalogue (for catalogues of 10^5 items and more; the cross-entropy alone: with --q-learning-weight 0). Evaluation still ranks every item.", valueName: "negatives"))
    var sampledSoftmax: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --sampled-softmax: negatives are drawn in proportion to (training count + 1) to this power (0: uniformly, 1: by popularity).", valueName: "power"))
    var samplingExponent: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("Validate and test on this many users drawn at random (the same for every seed) instead of every user: on logs of millions of users, ranking the whole catalogue for each takes longer than an epoch.", valueName: "users"))
    var evaluationUsers: Int?

    func validate() throws {
        let c = configuration
        guard c.epochs > 0, c.historyLength > 0, c.blocks > 0, c.batchSize > 0, (patience ?? 0) >= 0, c.warmupEpochs >= 0 else {
            throw ValidationError("--epochs, --history, --blocks and --batch-size must be positive and --patience and --warmup-epochs non-negative")
        }
        guard c.batchSize <= 65_536 else { throw ValidationError("--batch-size \(c.batchSize): at most 65536 windows") }
        let longest = SequenceStateEncoder.Configuration.maximumHistoryLength
        guard c.historyLength <= longest else { throw ValidationError("--history \(c.historyLength) is longer than the \(longest) interactions a model reads at most") }
        guard c.blocks <= 64 else { throw ValidationError("--blocks \(c.blocks): at most 64 transformer blocks") }
        guard c.dropout >= 0, c.dropout < 1 else { throw ValidationError("--dropout \(c.dropout) must be in [0, 1)") }
        guard c.learningRate > 0, c.learningRate.isFinite else { throw ValidationError("--learning-rate \(c.learningRate) must be positive") }
        guard (weightAverage ?? 0) >= 0, (weightAverage ?? 0) < 1 else { throw ValidationError("--weight-average \(weightAverage ?? 0) must be in [0, 1)") }
        guard c.weightDecay >= 0, c.weightDecay.isFinite else { throw ValidationError("--weight-decay \(c.weightDecay) must be non-negative") }
        guard (sampledSoftmax ?? 1) >= 1, (samplingExponent ?? 0) >= 0, samplingExponent?.isFinite ?? true else {
            throw ValidationError("--sampled-softmax must be positive and --sampling-exponent non-negative")
        }
        if samplingExponent != nil && sampledSoftmax == nil { throw ValidationError("--sampling-exponent needs --sampled-softmax") }
        guard (evaluationUsers ?? 1) >= 1 else { throw ValidationError("--evaluation-users \(evaluationUsers!) must be positive") }
    }

    /// The configuration these options describe: the recipe's, with each given option in place;
    /// the RL objectives left at their defaults.
    var configuration: NextItemModel.Configuration {
        var c = recipe.configuration
        if let epochs { c.epochs = epochs }
        if let patience { c.patience = patience > 0 ? patience : nil }
        if let blocks { c.blocks = blocks }
        if let tiedOutput { c.tiedOutput = tiedOutput }
        if let finalNorm { c.finalNormalization = finalNorm }
        if let linearState { c.linearState = linearState }
        if let dropout { c.dropout = dropout }
        if let learningRate { c.learningRate = learningRate }
        if let weightDecay { c.weightDecay = weightDecay }
        if let learningRateDecay { c.learningRateDecay = learningRateDecay }
        if let warmupEpochs { c.warmupEpochs = warmupEpochs }
        if let weightAverage { c.weightAverage = weightAverage > 0 ? weightAverage : nil }
        if let batchSize { c.batchSize = batchSize }
        if let learningRateScaling { c.learningRateScaling = learningRateScaling }
        if let history { c.historyLength = history }
        if let evaluationUsers { c.evaluationUsers = evaluationUsers }
        if let sampledSoftmax {
            c.sampledSoftmax = .init(negatives: sampledSoftmax, exponent: samplingExponent ?? NextItemModel.SampledSoftmax().exponent)
        }
        return c
    }

    /// For a registry's record of the hyperparameters.
    var hyperparameters: [String: String] {
        let c = configuration
        return ["epochs": String(c.epochs), "patience": String(c.patience ?? 0), "blocks": String(c.blocks), "tied_output": String(c.tiedOutput),
                "final_norm": String(c.finalNormalization), "linear_state": String(c.linearState), "dropout": String(c.dropout),
                "learning_rate": String(c.learningRate), "weight_decay": String(c.weightDecay), "learning_rate_decay": c.learningRateDecay.rawValue,
                "warmup_epochs": String(c.warmupEpochs), "weight_average": String(c.weightAverage ?? 0), "batch_size": String(c.batchSize),
                "learning_rate_scaling": c.learningRateScaling.rawValue, "scaled_learning_rate": String(c.scaledLearningRate),
                "history": String(c.historyLength)].merging(c.evaluationUsers.map { ["evaluation_users": String($0)] } ?? [:]) { first, _ in first }
            .merging(c.sampledSoftmax.map { ["sampled_softmax": String($0.negatives), "sampling_exponent": String($0.exponent)] } ?? [:]) { first, _ in first }
    }
}
