import DRLData
import DRLEvaluation
import DRLNN
import DRLRanking
import DRLSimulation
import ArgumentParser
import DRLServing
import Foundation

/// `drlrec update`: incremental training of a registered version on new feedback.
struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Fine-tune a registered version on a feedback log and register the result as its child.",
        discussion: """
        Hot start: the model starts from the version's weights and trains on the feedback log (the one \
        `drlrec serve` writes, or any file in the logged-interactions format) with the chronological \
        leave-one-out split of that log, keeping the epoch with the best validation NDCG@10. Feedback \
        on items outside the model's catalogue is skipped and counted. --freeze keeps modules as they \
        are (soft freezing): `encoder` trains only the heads, `encoder.item` keeps the item embeddings, \
        and so on; frozen modules are checked to come out bit-identical. The parent's and the child's \
        test metrics on the log are printed, and the child is registered with the parent as its parent.
        """
    )

    @Option(help: ArgumentHelp("The registry folder.", valueName: "dir"))
    var registry = ".drlrec/registry"

    @Option(name: .customLong("from"), help: "The version to start from.")
    var parent: String

    @Option(help: ArgumentHelp("The feedback log.", valueName: "file"))
    var feedback: String

    @Option(help: ArgumentHelp("Where the feedback log's binary cache is kept (default: $XDG_CACHE_HOME/drlrec or ~/.cache/drlrec).", valueName: "dir"))
    var cache: String?

    @Option(help: ArgumentHelp("A module or parameter to keep frozen (repeatable): encoder, encoder.sequence, output, …", valueName: "name"))
    var freeze: [String] = []

    @Option(parsing: .unconditional, help: "Training epochs.")
    var epochs = 10

    @Option(parsing: .unconditional, help: "Learning rate (lower than from scratch: the model is already trained).")
    var learningRate: Float = 3e-4

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    @Flag(help: "Promote the child version to production.")
    var promote = false

    @Flag(help: "Print the results as JSON lines: a progress event per epoch, the parent's and the child's test metrics, then the child's registration and promotion.")
    var json = false

    @Flag(help: "Print no progress, only the results.")
    var quiet = false

    func validate() throws {
        guard epochs > 0, learningRate > 0 else { throw ValidationError("--epochs and --learning-rate must be positive") }
    }

    func run() throws {
        let store = try ModelRegistry(directory: registry, create: false)
        let parentPath = try store.checkpointPath(of: parent)
        let vocabulary: NextItemModel
        do { vocabulary = try NextItemModel.load(from: parentPath) } catch { throw CommandFailure("\(error)") }
        // The log indexed as the model's catalogue, mapped from its cache; feedback on other items is left out.
        let opened = try InteractionSource.cached(feedback, cache: cache, reading: .init(items: vocabulary.itemIds, skippingBadRows: true), quiet: quiet)
        let log = opened.sequences, skipped = opened.unknownItemRows
        guard log.contextColumns == vocabulary.contextColumns else {
            throw CommandFailure("'\(feedback)' has the context columns \(log.contextColumns); version \(parent) reads \(vocabulary.contextColumns)")
        }
        if !quiet || skipped > 0 { say("\(log.count) feedback events of \(log.userCount) users from '\(feedback)'" + (skipped > 0 ? "; \(skipped) on items outside the catalogue skipped" : "")) }
        guard log.count > 0 else { throw CommandFailure("'\(feedback)' has no feedback on the model's items") }

        let model: NextItemModel
        do { model = try NextItemModel.load(from: parentPath, sequences: log, epochs: epochs, learningRate: learningRate) } catch {
            throw CommandFailure("\(error)")
        }
        let frozen: [String]
        do { frozen = try model.freeze(freeze) } catch { throw ValidationError("--freeze: \(error)") }
        let before = Dictionary(uniqueKeysWithValues: model.store.parameters.filter { frozen.contains($0.name) }.map { ($0.name, $0.parameter.value.scalars) })

        let split = LeaveOneOutSplit(log)
        let parentMetrics = model.evaluate(split, on: .test)
        let start = Sampler.now(), progress = EpochProgress("update", epochs: epochs, json: json, quiet: quiet)
        try model.train(on: split, seed: seed) { epoch, loss, ndcg in progress.report(epoch: epoch, loss: loss, ndcg: ndcg) }
        let childMetrics = model.evaluate(split, on: .test)
        let unchanged = model.store.parameters.filter { frozen.contains($0.name) }.allSatisfy { before[$0.name] == $0.parameter.value.scalars }
        guard unchanged else { throw CommandFailure("a frozen parameter changed during training: this is a bug") }

        let seconds = Sampler.now() - start, frozenValues = before.values.reduce(0) { $0 + $1.count }
        if json {
            print(JSONLine([
                ("event", .string("updated")), ("parent", .string(parent)), ("feedback_events", .int(log.count)), ("skipped", .int(skipped)),
                ("test_users", .int(childMetrics.users)),
                ("parent_hr_at_10", .double(parentMetrics.hitRate)), ("parent_ndcg_at_10", .double(parentMetrics.ndcg)),
                ("parent_mrr_at_10", .double(parentMetrics.mrr)), ("parent_coverage", .double(parentMetrics.coverage)),
                ("hr_at_10", .double(childMetrics.hitRate)), ("ndcg_at_10", .double(childMetrics.ndcg)),
                ("mrr_at_10", .double(childMetrics.mrr)), ("coverage", .double(childMetrics.coverage)),
                ("frozen_parameters", .int(frozen.count)), ("frozen_values", .int(frozenValues)), ("seconds", .double(seconds)),
            ]).text)
        } else {
            func row(_ name: String, _ m: RankingMetrics) -> [String] {
                [name, String(format: "%.4f", m.hitRate), String(format: "%.4f", m.ndcg), String(format: "%.4f", m.mrr), String(format: "%.4f", m.coverage)]
            }
            print("test on the feedback log (\(childMetrics.users) users), \(String(format: "%.0f", seconds)) s of training:")
            printColumns([["model", "HR@10", "NDCG@10", "MRR@10", "coverage"], row("\(parent) (parent)", parentMetrics), row("child", childMetrics)])
            if !frozen.isEmpty { print("frozen: \(frozen.count) parameters (\(frozenValues) values), bit-identical after training") }
        }

        let out = NSTemporaryDirectory() + "drlrec-update-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: out) }
        try model.save(to: out)
        let parentRecord = try store.version(parent)
        var hyperparameters = parentRecord.hyperparameters
        hyperparameters["update.epochs"] = String(epochs)
        hyperparameters["update.learning_rate"] = String(learningRate)
        hyperparameters["update.freeze"] = freeze.joined(separator: ",")
        hyperparameters["update.seed"] = String(seed)
        let child = try store.register(checkpoint: out, parent: parent, scenario: parentRecord.scenario, dataHash: opened.digest,
                                       hyperparameters: hyperparameters,
                                       metrics: ["hr@10": childMetrics.hitRate, "ndcg@10": childMetrics.ndcg, "mrr@10": childMetrics.mrr,
                                                 "coverage": childMetrics.coverage, "parent.hr@10": parentMetrics.hitRate,
                                                 "parent.ndcg@10": parentMetrics.ndcg])
        print(json ? RegistryCommand.registered(child, in: registry).text
              : "registered \(child.id) (lineage: \(try store.lineage(of: child.id).map(\.id).joined(separator: " ← ")))")
        if promote {
            try store.promote(child.id)
            print(json ? RegistryCommand.promoted(child.id).text : "promoted \(child.id) to production")
        }
    }
}
