import DRLData
import DRLDistributed
import DRLEvaluation
import DRLNN
import DRLRanking
import DRLReport
import ArgumentParser
import DRLServing
import Foundation

/// `drlrec fit`: trains the servable next-item model (SQN by default) on a log, reports its
/// held-out ranking quality, saves it, and can register it.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Train the servable next-item model on logged interactions and register it.",
        discussion: """
        Trains DRLRec's sequential recommender (the attention state encoder with a next-item head and, \
        with --q-learning-weight > 0, SQN's Q-learning head, and with --reinforce-weight > 0, REINFORCE with the \
        top-K off-policy correction beside the cross-entropy: offline RL from the logs) on MovieLens-100K \
        or on a file in DRLRec's logged-interactions format, with the chronological leave-one-out split: \
        the epoch with the best validation NDCG@10 is kept and the test item gives HR@10, NDCG@10 and MRR@10. \
        The checkpoint describes itself (items, categories, context columns), so `drlrec serve` needs \
        nothing else. With --registry, it is registered with its metrics and the SHA-256 of its data.

        Started by Open MPI's mpirun (`mpirun -np 2 drlrec fit …`), the ranks train data-parallel: each \
        computes the gradient of its share of every batch and one all-reduce sums them before each step, so \
        the parameters stay identical on every rank (checked after each epoch). Rank 0 alone prints and \
        writes. Give each rank its threads with DRLREC_NUM_THREADS (mpirun -x DRLREC_NUM_THREADS=1).
        """
    )

    @OptionGroup var source: InteractionSource

    @Option(parsing: .unconditional, help: ArgumentHelp("Train only on interactions before this time (seconds since the epoch): later ones can feed `drlrec update`.", valueName: "seconds"))
    var until: Int64?

    @Option(parsing: .unconditional, help: "Weight of SQN's TD loss (0: the supervised ranker alone).")
    var qLearningWeight: Float = 1

    @Option(parsing: .unconditional, help: "Weight of the corrected REINFORCE loss beside the cross-entropy (0: none; see `drlrec evaluate`).")
    var reinforceWeight: Float = 0

    @Option(parsing: .unconditional, help: "With --reinforce-weight: weight λ of the items' novelty in the reward (0: the ratings alone; see `drlrec evaluate`).")
    var noveltyReward: Float = 0

    @OptionGroup var ranker: RankerOptions

    @Option(help: ArgumentHelp("Also write an HTML report here: the cross-entropy and the validation NDCG@10 at each epoch, the kept epoch, the test metrics and the command.",
                               valueName: "file.html"))
    var report: String?

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Where to write the checkpoint.", valueName: "file"))
    var out = ".drlrec/next-item.safetensors"

    @Option(help: ArgumentHelp("Register the model in this registry.", valueName: "dir"))
    var registry: String?

    @Flag(help: "Promote the registered version to production.")
    var promote = false

    @Flag(help: "Print the results as JSON lines: a progress event per epoch, the fitted model's metrics, then its registration and promotion.")
    var json = false

    @Flag(help: "Print no progress, only the results.")
    var quiet = false

    func validate() throws {
        guard qLearningWeight >= 0, reinforceWeight >= 0, noveltyReward >= 0 else {
            throw ValidationError("--q-learning-weight, --reinforce-weight and --novelty-reward must be non-negative")
        }
        if ranker.sampledSoftmax != nil && (qLearningWeight > 0 || reinforceWeight > 0) {
            throw ValidationError("--sampled-softmax trains the cross-entropy head alone: give --q-learning-weight 0 (SQN's target reads every item's Q) and no --reinforce-weight")
        }
        if noveltyReward > 0 && reinforceWeight == 0 { throw ValidationError("--novelty-reward is part of the corrected REINFORCE's reward: it needs --reinforce-weight > 0") }
        if promote && registry == nil { throw ValidationError("--promote needs --registry") }
        if let report { try requireWritableDirectory(of: report, option: "--report") }
    }

    func run() throws {
        let group = try LaunchedProcessGroup.join()
        try LaunchedProcessGroup.run(group) { try fit(group) }
    }

    private func fit(_ group: ProcessGroup) throws {
        // The other ranks train beside rank 0, which alone prints and writes.
        let quiet = quiet || !group.isLeader, json = json && group.isLeader
        // One process builds a missing cache; the others map it once it is there.
        if !group.isLeader { try group.barrier() }
        let (data, categories, dataHash, scenario) = try source.sequences(until: until, quiet: quiet)
        if group.isLeader && group.size > 1 { try group.barrier() }
        let split = LeaveOneOutSplit(data)
        if !quiet { say("\(data.count) interactions of \(data.userCount) users on \(data.itemCount) items (\(scenario))") }
        if !quiet, group.size > 1 { say("data-parallel over \(group.size) processes: each trains on 1/\(group.size) of every batch") }
        if let problem = NextItemModel.dataProblem(split) { throw CommandFailure("\(scenario) \(problem)") }
        var configuration = ranker.configuration
        configuration.qLearningWeight = qLearningWeight
        if reinforceWeight > 0 { configuration.reinforce = .init(weight: reinforceWeight, noveltyReward: noveltyReward) }
        let model = NextItemModel(sequences: data, categories: categories, configuration: configuration, seed: seed)
        let start = Sampler.now(), progress = EpochProgress("fit", epochs: configuration.epochs, json: json, quiet: quiet)
        var secondsAtEpoch: [Int: Double] = [:], losses: [(x: Double, y: Double)] = []
        try model.train(on: split, seed: seed, group: group) { epoch, loss, ndcg in
            secondsAtEpoch[epoch] = progress.report(epoch: epoch, loss: loss, ndcg: ndcg)
            losses.append((Double(epoch), Double(loss)))
        }
        guard group.isLeader else { return }
        let throughput = model.trainingThroughput
        let windowsPerSecond = Double(throughput.windowsPerEpoch * throughput.epochs) / max(throughput.seconds, 1e-9)
        if !json {
            print(String(format: "trained on %d windows × %d epochs in %.1f s (validation left out): %.0f windows/s", throughput.windowsPerEpoch,
                         throughput.epochs, throughput.seconds, windowsPerSecond)
                  + (group.size > 1 ? String(format: " over %d processes (%.1f s of it in collectives on rank 0)", group.size, throughput.collectiveSeconds) : ""))
        }
        let best = model.validationCurve.max(by: { $0.ndcg < $1.ndcg })
        if !json, let best {
            print(String(format: "kept epoch %d of %d (best validation NDCG@10 %.4f, reached in %.0f s)", best.epoch,
                         model.validationCurve.last?.epoch ?? best.epoch, best.ndcg, secondsAtEpoch[best.epoch] ?? 0))
        }
        let test = model.evaluate(split, on: .test)
        let seconds = Sampler.now() - start
        let metrics = ["hr@10": test.hitRate, "ndcg@10": test.ndcg, "mrr@10": test.mrr, "coverage": test.coverage, "novelty": test.novelty]
        if !json {
            print(String(format: "test (%d users): HR@10 %.4f  NDCG@10 %.4f  MRR@10 %.4f  coverage %.4f  novelty %.2f  (%.0f s)",
                         test.users, test.hitRate, test.ndcg, test.mrr, test.coverage, test.novelty, seconds))
        }
        try ensureDirectory(of: out)
        try model.save(to: out)
        if let report {
            var page = HTMLReport.ofThisCommand("drlrec fit on \(scenario), seed \(seed)")
            page.blocks.append(.paragraph("\(data.count) interactions of \(data.userCount) users on \(data.itemCount) items; leave-one-out by time, "
                                          + "the epoch with the best validation NDCG@10 kept" + (best.map { " (epoch \($0.epoch))" } ?? "") + "."))
            page.blocks.append(.chart(LineChart(id: "learning-curve", title: "The training cross-entropy at each epoch", xLabel: "epoch",
                                                yLabel: "cross-entropy", series: [.init(name: "cross-entropy", points: losses)])))
            page.blocks.append(.chart(LineChart(id: "validation", title: "NDCG@10 on the validation items after each validated epoch", xLabel: "epoch",
                                                yLabel: "NDCG@10", series: [.init(name: "validation", points: model.validationCurve.map { (Double($0.epoch), $0.ndcg) })])))
            page.blocks.append(.table(["test users", "HR@10", "NDCG@10", "MRR@10", "coverage", "novelty", "seconds"],
                                      [[String(test.users)] + [test.hitRate, test.ndcg, test.mrr, test.coverage].map { String(format: "%.4f", $0) }
                                       + [String(format: "%.2f", test.novelty), String(format: "%.0f", seconds)]]))
            do { try page.write(to: report) } catch { throw CommandFailure("--report \(report): writing failed: \(error)") }
        }
        print(json ? JSONLine([
            ("event", .string("fitted")), ("kept_epoch", best.map { .int($0.epoch) } ?? .null),
            ("validation_ndcg_at_10", best.map { .double($0.ndcg) } ?? .null), ("test_users", .int(test.users)),
            ("hr_at_10", .double(test.hitRate)), ("ndcg_at_10", .double(test.ndcg)), ("mrr_at_10", .double(test.mrr)),
            ("coverage", .double(test.coverage)), ("novelty", .double(test.novelty)), ("seconds", .double(seconds)),
            ("training_seconds", .double(throughput.seconds)), ("collective_seconds", .double(throughput.collectiveSeconds)),
            ("windows_per_second", .double(windowsPerSecond)), ("processes", .int(group.size)),
            ("out", .string(out)),
        ]).text : "saved \(out)")
        guard let registry else { return }
        let store = try ModelRegistry(directory: registry)
        var hyperparameters = ranker.hyperparameters.merging(["q_learning_weight": String(qLearningWeight),
                               "reinforce_weight": String(reinforceWeight), "novelty_reward": String(noveltyReward),
                               "seed": String(seed), "dimension": String(configuration.dimension)]) { first, _ in first }
        if let until { hyperparameters["until"] = String(until) }
        let version = try store.register(checkpoint: out, scenario: scenario, dataHash: dataHash,
                                         hyperparameters: hyperparameters, metrics: metrics)
        print(json ? RegistryCommand.registered(version, in: registry).text : "registered \(version.id) in \(registry)")
        if promote {
            try store.promote(version.id)
            print(json ? RegistryCommand.promoted(version.id).text : "promoted \(version.id) to production")
        }
    }

}
