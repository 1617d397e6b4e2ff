import DRLData
import DRLEvaluation
import DRLRanking
import DRLTensor
import ArgumentParser
import DRLServing
import Foundation

/// `drlrec compress`: a smaller model for serving, with its size, latency and quality beside the
/// original's.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress a registered version (low-rank factorisation, pruning or distillation) and report what it costs.",
        discussion: """
        low-rank: the item embedding and the ranking head, which grow with the catalogue, are replaced \
        by their best rank-r approximations (truncated SVD through LAPACK) and stored as factors. \
        prune: the same two matrices lose the --sparsity fraction of their entries smallest in magnitude \
        and are stored sparse (values and positions). Both are then fine-tuned, projected back onto \
        their rank or sparsity after every epoch. \
        distill: a student with a smaller dimension is trained on the log with the original as its \
        teacher (soft targets at every position, temperature 2), and, with --baseline, the same student \
        without the teacher, to show what distillation adds. The table gives the parameters serving reads, \
        the numbers the serving checkpoint stores and its size (without SQN's Q head, which only trains), the single-request scoring latency (median and p99 of 2,000 calls with a \
        full history) and the held-out ranking metrics of each model on the version's data \
        (the same data options as `drlrec fit`; --until is taken from the version when it was fit with one).
        """
    )

    @Option(help: ArgumentHelp("The registry folder.", valueName: "dir"))
    var registry = ".drlrec/registry"

    @Option(help: "The version to compress.")
    var version: String

    @Option(help: "low-rank or distill.")
    var method: String

    @Option(parsing: .unconditional, help: "low-rank: the rank of the factors.")
    var rank = 16

    @Option(parsing: .unconditional, help: "prune: the fraction of entries set to zero.")
    var sparsity = 0.75

    @Option(parsing: .unconditional, help: "low-rank, prune: epochs of fine-tuning (projected back onto the rank or sparsity after each).")
    var fineTuneEpochs = 10

    @Option(parsing: .unconditional, help: "distill: the student's dimension.")
    var studentDimension = 32

    @Option(parsing: .unconditional, help: "distill: training epochs of the student.")
    var epochs = 30

    @Flag(help: "distill: also train the student without the teacher.")
    var baseline = false

    @OptionGroup var source: InteractionSource

    @Flag(help: "Register the compressed model as a child version.")
    var register = false

    @Flag(help: "Print the results as JSON lines: one object per model of the table, then the registration.")
    var json = false

    func validate() throws {
        guard ["low-rank", "prune", "distill"].contains(method) else { throw ValidationError("--method must be low-rank, prune or distill") }
        guard sparsity > 0 && sparsity < 1 else { throw ValidationError("--sparsity must be in (0, 1)") }
        guard rank > 0, studentDimension > 0, studentDimension % 2 == 0, epochs > 0, fineTuneEpochs >= 0 else {
            throw ValidationError("--rank, --epochs and --student-dimension (even) must be positive and --fine-tune-epochs non-negative")
        }
    }

    func run() throws {
        let store = try ModelRegistry(directory: registry, create: false)
        let record = try store.version(version)
        let path = try store.checkpointPath(of: version)
        let until = record.hyperparameters["until"].flatMap { Int64($0) }
        let (log, categories, _, _) = try source.load(until: until)
        let split = LeaveOneOutSplit(log)
        func load() throws -> NextItemModel {
            do { return try NextItemModel.load(from: path, log: log) } catch {
                throw CommandFailure("\(error) (is the data the one version \(version) was fit on?)")
            }
        }
        let original = try load()
        var rows = [["model", "stored numbers", "checkpoint", "p50 ms", "p99 ms", "HR@10", "NDCG@10", "HR@10 change [95% CI]"]]
        var lines: [JSONLine] = []
        let reference = original.evaluate(split, on: .test)
        func report(_ name: String, _ model: NextItemModel) throws -> String {
            let file = NSTemporaryDirectory() + "drlrec-compress-\(getpid())-\(rows.count).safetensors"
            try model.save(to: file, servingOnly: true)
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            let metrics = model.evaluate(split, on: .test)
            let (p50, p99) = Self.latency(of: model, items: log.itemCount)
            // The change against the original on the same users, with a paired bootstrap interval.
            let change = compareRankings(control: reference, treatment: metrics)[0], compared = model !== original
            let changeText = compared ? String(format: "%+.1f%% [%+.4f, %+.4f]", (change.relativeChange ?? 0) * 100, change.ciLow, change.ciHigh) : "-"
            rows.append([name, String(model.servingParameterCount), String(format: "%.2f MB", Double(size) / 1e6),
                         String(format: "%.3f", p50), String(format: "%.3f", p99), String(format: "%.4f", metrics.hitRate),
                         String(format: "%.4f", metrics.ndcg), changeText])
            lines.append(JSONLine([
                ("event", .string("measured")), ("model", .string(name)), ("method", .string(method)), ("stored_numbers", .int(model.servingParameterCount)),
                ("checkpoint_bytes", .int(size)), ("p50_ms", .double(p50)), ("p99_ms", .double(p99)), ("test_users", .int(metrics.users)),
                ("hr_at_10", .double(metrics.hitRate)), ("ndcg_at_10", .double(metrics.ndcg)),
                ("hr_at_10_diff", compared ? .float(change.difference) : .null),
                ("hr_at_10_relative_change", compared ? change.relativeChange.map { .float($0) } ?? .null : .null),
                ("hr_at_10_diff_ci_low", compared ? .float(change.ciLow) : .null), ("hr_at_10_diff_ci_high", compared ? .float(change.ciHigh) : .null),
            ]))
            return file
        }
        let originalFile = try report("\(version) (original)", original)
        try? FileManager.default.removeItem(atPath: originalFile)

        let compressed: NextItemModel, label: String
        var hyperparameters = record.hyperparameters
        if method != "distill" {
            compressed = try NextItemModel.load(from: path, log: log, epochs: fineTuneEpochs, learningRate: 3e-4)
            let form = method == "low-rank" ? "low-rank r=\(rank)" : "pruned \(Int((sparsity * 100).rounded()))%"
            for name in compressed.catalogueMatrices {
                do {
                    if method == "low-rank" { try compressed.factorize(name, rank: rank) } else { try compressed.prune(name, sparsity: sparsity) }
                } catch { throw CommandFailure("\(error)") }
            }
            if fineTuneEpochs > 0 {
                try? FileManager.default.removeItem(atPath: try report("\(form), before fine-tuning", compressed))
                try compressed.train(on: split, seed: 0) { epoch, _, ndcg in
                    if let ndcg { say(String(format: "  fine-tuning, epoch %d: validation NDCG@10 %.4f", epoch, ndcg)) }
                }
            }
            label = form + (fineTuneEpochs > 0 ? ", fine-tuned" : "")
            hyperparameters[method == "low-rank" ? "compress.low_rank" : "compress.sparsity"] = method == "low-rank" ? String(rank) : String(sparsity)
        } else {
            var configuration = NextItemModel.Configuration()
            configuration.dimension = studentDimension
            configuration.historyLength = original.configuration.historyLength
            configuration.epochs = epochs
            if baseline {
                let plain = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 0)
                try plain.train(on: split, seed: 0) { epoch, _, ndcg in if let ndcg { say(String(format: "  student alone, epoch %d: validation NDCG@10 %.4f", epoch, ndcg)) } }
                try? FileManager.default.removeItem(atPath: try report("student d=\(studentDimension), no teacher", plain))
            }
            compressed = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 0)
            try compressed.train(on: split, seed: 0, distillation: NextItemModel.Distillation(teacher: original)) { epoch, _, ndcg in
                if let ndcg { say(String(format: "  distilled student, epoch %d: validation NDCG@10 %.4f", epoch, ndcg)) }
            }
            label = "distilled d=\(studentDimension)"
            hyperparameters["compress.distill_dimension"] = String(studentDimension)
        }
        let file = try report(label, compressed)
        defer { try? FileManager.default.removeItem(atPath: file) }
        if json { lines.forEach { print($0.text) } } else { printColumns(rows) }
        if register {
            let metrics = compressed.evaluate(split, on: .test)
            let child = try store.register(checkpoint: file, parent: version, scenario: record.scenario, dataHash: record.dataHash,
                                           hyperparameters: hyperparameters,
                                           metrics: ["hr@10": metrics.hitRate, "ndcg@10": metrics.ndcg, "mrr@10": metrics.mrr, "coverage": metrics.coverage])
            print(json ? RegistryCommand.registered(child, in: registry).text : "registered \(child.id) (\(label), parent \(version))")
        }
    }

    /// Median and 99th percentile, in milliseconds, of one user's scoring with a full history.
    static func latency(of model: NextItemModel, items: Int) -> (Double, Double) {
        let history = (0..<model.configuration.historyLength).map {
            UserEvent(item: Int32($0 * 7 % items), event: .rating, value: 4, timestamp: Int64($0) * 3600)
        }
        let context = [Float](repeating: 1, count: model.contextColumns.count)
        var times: [Double] = []
        for call in 0..<2_200 {
            let start = Sampler.now()
            _ = model.score(history: history[...], context: context)
            if call >= 200 { times.append((Sampler.now() - start) * 1000) }
        }
        times.sort()
        return (times[times.count / 2], times[times.count * 99 / 100])
    }
}
