import ArgumentParser
import DRLNN
import DRLRanking

extension NextItemModel.LearningRateDecay: ExpressibleByArgument {}

/// The sequential ranker's network and training, shared by `drlrec fit` and `drlrec evaluate`
/// (whose RL agents train the same network with their own objectives). The defaults are
/// `NextItemModel.Configuration`'s.
struct RankerOptions: ParsableArguments {
    private static let defaults = NextItemModel.Configuration()

    @Option(help: "Training epochs at most (the epoch with the best validation NDCG@10 is kept).")
    var epochs = defaults.epochs

    @Option(help: ArgumentHelp("Stop after this many validations in a row (one every two epochs) without a better validation NDCG@10; 0 trains every epoch.", valueName: "validations"))
    var patience = defaults.patience ?? 0

    @Option(help: "Transformer blocks of the attention encoder.")
    var blocks = defaults.blocks

    @Flag(inversion: .prefixedNo, help: "Score each item by its input embedding (weight tying) instead of a head of its own.")
    var tiedOutput = defaults.tiedOutput

    @Flag(inversion: .prefixedNo, help: "Normalise the sequence model's outputs by a LayerNorm (a transformer stack's final norm).")
    var finalNorm = defaults.finalNormalization

    @Flag(inversion: .prefixedNo, help: "Take the state from the fusion Linear without a GELU after it (with --tied-output: SASRec's dot-product scores).")
    var linearState = defaults.linearState

    @Option(help: "Dropout of the encoder's tokens, transformer branches and outputs while training.")
    var dropout = defaults.dropout

    @Option(help: "Adam's learning rate.")
    var learningRate = defaults.learningRate

    @Option(help: "Learning rate after the warm-up: constant, or cosine (from --learning-rate to 0 at the last epoch).")
    var learningRateDecay = defaults.learningRateDecay

    @Option(help: "Epochs of linear warm-up of the learning rate from 0.")
    var warmupEpochs = defaults.warmupEpochs

    @Option(help: ArgumentHelp("Validate and keep an exponential moving average of the weights with this decay per step (0: the weights themselves).", valueName: "decay"))
    var weightAverage: Float = 0

    @Option(help: "Training windows per batch.")
    var batchSize = defaults.batchSize

    @Option(help: "Adam's decoupled weight decay (AdamW).")
    var weightDecay = defaults.weightDecay

    @Option(help: "Interactions of history the model reads.")
    var history = defaults.historyLength

    func validate() throws {
        guard epochs > 0, history > 0, blocks > 0, batchSize > 0, patience >= 0, warmupEpochs >= 0 else {
            throw ValidationError("--epochs, --history, --blocks and --batch-size must be positive and --patience and --warmup-epochs non-negative")
        }
        guard batchSize <= 65_536 else { throw ValidationError("--batch-size \(batchSize): at most 65536 windows") }
        let longest = SequenceStateEncoder.Configuration.maximumHistoryLength
        guard history <= longest else { throw ValidationError("--history \(history) is longer than the \(longest) interactions a model reads at most") }
        guard blocks <= 64 else { throw ValidationError("--blocks \(blocks): at most 64 transformer blocks") }
        guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout \(dropout) must be in [0, 1)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate \(learningRate) must be positive") }
        guard weightAverage >= 0, weightAverage < 1 else { throw ValidationError("--weight-average \(weightAverage) must be in [0, 1)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw ValidationError("--weight-decay \(weightDecay) must be non-negative") }
    }

    /// The configuration these options describe, the RL objectives left at their defaults.
    var configuration: NextItemModel.Configuration {
        var c = NextItemModel.Configuration()
        c.epochs = epochs
        c.patience = patience > 0 ? patience : nil
        c.blocks = blocks
        c.tiedOutput = tiedOutput
        c.finalNormalization = finalNorm
        c.linearState = linearState
        c.dropout = dropout
        c.learningRate = learningRate
        c.weightDecay = weightDecay
        c.learningRateDecay = learningRateDecay
        c.warmupEpochs = warmupEpochs
        c.weightAverage = weightAverage > 0 ? weightAverage : nil
        c.batchSize = batchSize
        c.historyLength = history
        return c
    }

    /// For a registry's record of the hyperparameters.
    var hyperparameters: [String: String] {
        ["epochs": String(epochs), "patience": String(patience), "blocks": String(blocks), "tied_output": String(tiedOutput),
         "final_norm": String(finalNorm), "linear_state": String(linearState), "dropout": String(dropout),
         "learning_rate": String(learningRate), "weight_decay": String(weightDecay), "learning_rate_decay": learningRateDecay.rawValue,
         "warmup_epochs": String(warmupEpochs), "weight_average": String(weightAverage), "batch_size": String(batchSize), "history": String(history)]
    }
}
