import ArgumentParser
import DRLNN
import DRLRanking

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

    @Option(help: "Dropout of the encoder's tokens, transformer branches and outputs while training.")
    var dropout = defaults.dropout

    @Option(help: "Adam's learning rate.")
    var learningRate = defaults.learningRate

    @Option(help: "Adam's decoupled weight decay (AdamW).")
    var weightDecay = defaults.weightDecay

    @Option(help: "Interactions of history the model reads.")
    var history = defaults.historyLength

    func validate() throws {
        guard epochs > 0, history > 0, blocks > 0, patience >= 0 else {
            throw ValidationError("--epochs, --history and --blocks must be positive and --patience non-negative")
        }
        let longest = SequenceStateEncoder.Configuration.maximumHistoryLength
        guard history <= longest else { throw ValidationError("--history \(history) is longer than the \(longest) interactions a model reads at most") }
        guard blocks <= 64 else { throw ValidationError("--blocks \(blocks): at most 64 transformer blocks") }
        guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout \(dropout) must be in [0, 1)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate \(learningRate) must be positive") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw ValidationError("--weight-decay \(weightDecay) must be non-negative") }
    }

    /// The configuration these options describe, the RL objectives left at their defaults.
    var configuration: NextItemModel.Configuration {
        var c = NextItemModel.Configuration()
        c.epochs = epochs
        c.patience = patience > 0 ? patience : nil
        c.blocks = blocks
        c.tiedOutput = tiedOutput
        c.dropout = dropout
        c.learningRate = learningRate
        c.weightDecay = weightDecay
        c.historyLength = history
        return c
    }

    /// For a registry's record of the hyperparameters.
    var hyperparameters: [String: String] {
        ["epochs": String(epochs), "patience": String(patience), "blocks": String(blocks), "tied_output": String(tiedOutput), "dropout": String(dropout),
         "learning_rate": String(learningRate), "weight_decay": String(weightDecay), "history": String(history)]
    }
}
