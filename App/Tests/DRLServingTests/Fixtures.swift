import DRLData
import DRLEvaluation
import DRLRanking
import DRLTensor
import Foundation
import ScratchFiles

/// What the serving tests share: a small next-item model that has learnt a rule, and scratch
/// folders.
enum Fixtures {
    /// Users walk a cycle of 24 items ("i0"…"i23") with a stride of 1, 2 or 3 given by the context
    /// column "stride" (`SyntheticLog` without jumps); a model trained on it ranks the next item of
    /// the cycle first.
    static func cycleLog(users: Int = 90) -> LoggedInteractions {
        SyntheticLog.generate(users: users, items: 24, eventsPerUser: 12, jump: 0, seed: 4)
    }

    static func cycleModel(epochs: Int = 30) throws -> NextItemModel {
        let log = cycleLog()
        var configuration = NextItemModel.Configuration()
        configuration.historyLength = 8
        configuration.dimension = 16
        configuration.epochs = epochs
        configuration.batchSize = 16
        configuration.learningRate = 3e-3
        configuration.validationInterval = 5
        let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 1)
        try model.train(on: LeaveOneOutSplit(log), seed: 2)
        return model
    }

    /// A trained cycle model's checkpoint, trained once per process.
    static let cycleCheckpoint: String = {
        let path = scratchDirectory("model") + "/cycle.safetensors"
        try! cycleModel().save(to: path)
        return path
    }()

    static func scratchDirectory(_ name: String) -> String { Scratch.directory(name) }
}
