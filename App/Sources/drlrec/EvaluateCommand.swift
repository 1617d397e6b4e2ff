import DRLData
import DRLEvaluation
import DRLRanking
import DRLScenarios
import ArgumentParser
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate recommenders offline on a real dataset: chronological leave-one-out, full ranking.",
        discussion: """
        On MovieLens-100K (fetched by `drlrec data fetch movielens`) or any file in DRLRec's \
        logged-interactions format (--data), each user's last interaction is the test item and the one \
        before it the validation item. Every model ranks all items the user has not interacted with, \
        and a table per cutoff k (--cutoffs) reports HR@k (with one held-out item, recall@k is the \
        same), NDCG@k and MRR@k of the test item, the catalogue coverage of the top-k lists, their \
        novelty (mean −log₂ of the items' training popularity) and, when the items have categories \
        (MovieLens: each movie's first genre), their intra-list diversity (the share of pairs in \
        different categories). Validation and the comparisons use k = 10. \
        Models: popularity; implicit ALS, its regularisation and confidence chosen by validation NDCG@10; \
        the sequential ranker (SASRec-style: DRLRec's attention state encoder over the last 50 ratings, \
        trained to predict the next movie at every position), its epoch chosen by validation NDCG@10; \
        and RL agents trained offline on the logs, rewarded by the ratings: SQN, the same ranker with \
        a Q-learning head trained by TD on the logged transitions; the same ranker trained by \
        cross-entropy plus α × REINFORCE with the top-K off-policy correction against a learned \
        behaviour policy (Chen et al., WSDM 2019); and that agent with the recommended movies' novelty \
        in its reward beside the ratings (--novelty-reward). Each RL agent is compared with the \
        sequential ranker on the same users, with 95% paired bootstrap intervals.
        """
    )

    @Option(help: "Dataset: movielens (the default without --data).")
    var dataset: String?

    @Option(help: ArgumentHelp("A logged-interactions CSV file to evaluate on instead (every item in category 0).", valueName: "file"))
    var data: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("The cutoffs k of the metrics, comma-separated.", valueName: "list"))
    var cutoffs = "5,10,20"

    @Option(help: ArgumentHelp("The cache `drlrec data fetch` filled (default: $XDG_CACHE_HOME/drlrec or ~/.cache/drlrec).", valueName: "dir"))
    var cache: String?

    @Flag(help: "Print one JSON object per model, then one per RL agent and metric with its paired difference from the sequential ranker (and the progress as JSON events).")
    var json = false

    @Flag(help: "Print no progress, only the results.")
    var quiet = false

    @Option(name: .customLong("report"), help: ArgumentHelp("Also write an HTML report here: every model's ranking metrics (each seed's with --seeds), the RL agents' differences with their intervals, the tables and the command.",
                                                          valueName: "file.html"))
    var htmlReport: String?

    @Option(parsing: .unconditional, help: "Random seed of the models' initialisation and training order (ALS, the sequential ranker, the RL agents).")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Instead of --seed, train and test every model once per seed (comma-separated), and compare each RL agent with the sequential ranker of the same seed across them: mean difference, spread and an interval over users and seeds.", valueName: "list"))
    var seeds: String?

    @Option(parsing: .unconditional, help: "Weight of SQN's TD loss beside the cross-entropy.")
    var qLearningWeight: Float = 1

    @Option(parsing: .unconditional, help: "Weight α of the corrected REINFORCE loss beside the cross-entropy.")
    var reinforceWeight: Float = 0.1

    @Option(parsing: .unconditional, help: "The corrected REINFORCE's slate size K.")
    var slateSize = 10

    @Option(parsing: .unconditional, help: "The corrected REINFORCE's cap on the importance weight π/β.")
    var weightCap: Float = 10

    @Option(parsing: .unconditional, help: "Weights λ of novelty in the reward of the agent reinforce-novelty, comma-separated: the recommended movie's self-information in the training log over the largest possible (0 for the most popular movie, 1 for one rated once), beside the ratings. With several, each is trained and validation chooses the largest not significantly below the sequential ranker on any --novelty-guard metric (default HR@10).")
    var noveltyReward = "3,10,30"

    @Option(help: ArgumentHelp("With several --novelty-reward weights: the validation metrics, comma-separated (hr@10, ndcg@10, mrr@10), on which the chosen λ must not be significantly below the sequential ranker.", valueName: "metrics"))
    var noveltyGuard = "hr@10"

    @Option(help: "Comma-separated RL agents to train and compare with the sequential ranker: sqn, reinforce (rewarded by the ratings), reinforce-novelty (by the ratings and the novelty of the recommendations).")
    var agents = "sqn,reinforce,reinforce-novelty"

    @Option(parsing: .unconditional, help: "Discount γ of later rewards (SQN's TD target, REINFORCE's return).")
    var gamma: Float = 0.5

    @Option(parsing: .unconditional, help: ArgumentHelp("Train each RL agent on top of the sequential ranker: from its kept weights, this many epochs more, keeping the epoch with the best validation NDCG@10 (default: from the ranker's initialisation, for the ranker's epochs).", valueName: "epochs"))
    var fineTuneEpochs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --fine-tune-epochs: Adam's learning rate on top of the ranker (default: the ranker's).", valueName: "rate"))
    var fineTuneLearningRate: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --fine-tune-epochs: weight of a KL penalty holding each agent's next-item distribution to the ranker's (distillation from the ranker at temperature 1; default: none).", valueName: "weight"))
    var fineTuneAnchor: Float?

    /// The sequential ranker's, which the RL agents share.
    @OptionGroup var ranker: RankerOptions

    func validate() throws {
        if let dataset, dataset != "movielens" { throw ValidationError("--dataset \(dataset): only movielens is known (or give --data FILE)") }
        if dataset != nil && data != nil { throw ValidationError("give one of --dataset and --data") }
        if ranker.sampledSoftmax != nil {
            throw ValidationError("--sampled-softmax: evaluate trains SQN and the corrected REINFORCE beside the ranker, which read every item's logit; train a sampled-softmax ranker with drlrec fit")
        }
        if let seeds {
            guard !seedList.isEmpty, seedList.count == seeds.split(separator: ",").count, Set(seedList).count == seedList.count else {
                throw ValidationError("--seeds '\(seeds)' must be distinct non-negative integers, comma-separated")
            }
        }
        guard !cutoffList.isEmpty, cutoffList.count == cutoffs.split(separator: ",").count, cutoffList.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--cutoffs '\(cutoffs)' must be positive integers, comma-separated")
        }
        guard gamma >= 0, gamma < 1 else { throw ValidationError("--gamma \(gamma) must be in [0, 1)") }
        guard reinforceWeight > 0, slateSize >= 1, weightCap > 0 else {
            throw ValidationError("--reinforce-weight and --weight-cap must be positive and --slate-size at least 1")
        }
        guard !noveltyRewards.isEmpty, noveltyRewards.count == noveltyReward.split(separator: ",").count,
              noveltyRewards.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ValidationError("--novelty-reward '\(noveltyReward)' must be positive numbers, comma-separated (at 0, reinforce-novelty is the agent reinforce)")
        }
        guard !noveltyGuards.isEmpty, noveltyGuards.allSatisfy(LeaveOneOutEvaluation.guardableMetrics.contains) else {
            throw ValidationError("--novelty-guard '\(noveltyGuard)' must name metrics of \(LeaveOneOutEvaluation.guardableMetrics.joined(separator: ", ")), comma-separated")
        }
        guard !agentList.isEmpty else { throw ValidationError("--agents names no agent; choose from \(Self.agentNames.joined(separator: ", "))") }
        for agent in agentList where !Self.agentNames.contains(agent) {
            throw ValidationError("--agents: '\(agent)' is not an RL agent here; choose from \(Self.agentNames.joined(separator: ", "))")
        }
        if let htmlReport { try requireWritableDirectory(of: htmlReport, option: "--report") }
        if let fineTuneEpochs, fineTuneEpochs < 1 { throw ValidationError("--fine-tune-epochs \(fineTuneEpochs) must be at least 1") }
        if let fineTuneLearningRate {
            guard fineTuneEpochs != nil else { throw ValidationError("--fine-tune-learning-rate needs --fine-tune-epochs") }
            guard fineTuneLearningRate > 0, fineTuneLearningRate.isFinite else { throw ValidationError("--fine-tune-learning-rate \(fineTuneLearningRate) must be positive") }
        }
        if let fineTuneAnchor {
            guard fineTuneEpochs != nil else { throw ValidationError("--fine-tune-anchor needs --fine-tune-epochs") }
            guard fineTuneAnchor > 0, fineTuneAnchor.isFinite else { throw ValidationError("--fine-tune-anchor \(fineTuneAnchor) must be positive") }
        }
        guard qLearningWeight > 0 else { throw ValidationError("--q-learning-weight must be positive (0 is the sequential ranker, already in the table)") }
    }

    static let agentNames = LeaveOneOutEvaluation.Agent.allCases.map(\.rawValue)
    var noveltyRewards: [Float] { noveltyReward.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) } }
    var noveltyGuards: [String] { noveltyGuard.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
    var agentList: [String] { agents.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    var seedList: [UInt64] { (seeds ?? "").split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } }
    var cutoffList: [Int] { cutoffs.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        let log: UserSequences, categories: [Int32], name: String
        if let data {
            log = try InteractionSource.cached(data, cache: cache, quiet: quiet).sequences
            (categories, name) = ([Int32](repeating: 0, count: log.itemCount), (data as NSString).lastPathComponent)
            if let problem = NextItemModel.dataProblem(LeaveOneOutSplit(log)) { throw CommandFailure("\(name) \(problem)") }
        } else {
            let movieLens = try InteractionSource.movieLens(cache: cache)
            (log, categories, name) = (UserSequences(movieLens.log), movieLens.categories, "MovieLens-100K")
        }
        guard let largest = cutoffList.max(), largest <= log.itemCount else {
            throw CommandFailure("--cutoffs \(cutoffs): \(name) has \(log.itemCount) items, fewer than the largest cutoff")
        }
        var evaluation = LeaveOneOutEvaluation()
        evaluation.cutoffs = cutoffList
        evaluation.seed = seed
        evaluation.qLearningWeight = qLearningWeight
        evaluation.reinforceWeight = reinforceWeight
        evaluation.slateSize = slateSize
        evaluation.weightCap = weightCap
        evaluation.noveltyRewards = noveltyRewards
        evaluation.noveltyGuards = noveltyGuards
        evaluation.agents = agentList.compactMap(LeaveOneOutEvaluation.Agent.init(rawValue:))
        evaluation.ranker = ranker.configuration
        evaluation.ranker.gamma = gamma
        evaluation.fineTuning = fineTuneEpochs.map { .init(epochs: $0, learningRate: fineTuneLearningRate, anchor: fineTuneAnchor) }
        if seeds != nil { return try runSeeds(evaluation, log: log, categories: categories, name: name) }
        let report: LeaveOneOutEvaluation.Report
        let (progress, epochs, bar) = progressReports(evaluation, seeds: 1)
        do { report = try evaluation.run(log, categories: categories, progress: progress, epochs: epochs) } catch { throw commandLineError(error) }
        bar.finish()
        if let htmlReport {
            do { try evaluationReport(report, dataset: name).write(to: htmlReport) } catch { throw CommandFailure("--report \(htmlReport): writing failed: \(error)") }
        }
        let rows = report.rows, comparisons = report.comparisons
        if json {
            for row in rows {
                for m in row.cutoffs {
                    print(JSONLine([("model", .string(row.model)), ("k", .int(m.k)), ("hr", .float(Float(m.hitRate))),
                                    ("recall", .float(Float(m.hitRate))), ("ndcg", .float(Float(m.ndcg))), ("mrr", .float(Float(m.mrr))),
                                    ("coverage", .float(Float(m.coverage))), ("novelty", .float(Float(m.novelty))),
                                    ("intra_list_diversity", m.intraListDiversity.map { .float(Float($0)) } ?? .null),
                                    ("users", .int(m.users)), ("seconds", .float(Float(row.seconds)))]).text)
                }
            }
            // Then one object per RL agent and metric: its difference from the sequential ranker.
            for (agent, gains) in comparisons {
                for gain in gains {
                    print(JSONLine([("comparison", .string("\(agent.rawValue) − sequential")), ("metric", .string(gain.metric)),
                                    ("difference", .float(Float(gain.difference))), ("ci_low", .float(Float(gain.ciLow))),
                                    ("ci_high", .float(Float(gain.ciHigh)))]).text)
                }
            }
            return
        }
        print("\(name), leave-one-out by time, full ranking over the items each user has not interacted with, \(report.testUsers) test users")
        for (c, k) in rows[0].cutoffs.map(\.k).enumerated() {
            let header = ["model", "HR@\(k)", "NDCG@\(k)", "MRR@\(k)", "coverage", "novelty", "diversity", "time"]
            var table = [header]
            for row in rows {
                let m = row.cutoffs[c]
                table.append([row.model, String(format: "%.4f", m.hitRate), String(format: "%.4f", m.ndcg), String(format: "%.4f", m.mrr),
                              String(format: "%.4f", m.coverage), String(format: "%.2f", m.novelty),
                              m.intraListDiversity.map { String(format: "%.4f", $0) } ?? "–", String(format: "%.1f s", row.seconds)])
            }
            print("")
            printColumns(table)
        }
        for (agent, gains) in comparisons {
            print("\(agent.rawValue) − sequential on the same users, 95% paired bootstrap intervals: " + gains.map {
                String(format: "%@ %+.4f [%+.4f, %+.4f]", $0.metric, $0.difference, $0.ciLow, $0.ciHigh)
            }.joined(separator: ", "))
        }
    }

    /// The evaluation's progress: its lines (above the bar on a terminal), and a bar over the
    /// ranker epochs it trains at most, with the rate and the time left.
    private func progressReports(_ evaluation: LeaveOneOutEvaluation, seeds: Int) -> (ProgressReport, (Int) -> Void, ProgressBar) {
        let bar = ProgressBar("evaluating", unit: "epochs", total: evaluation.epochsAtMost(seeds: seeds), mode: .of(json: json, quiet: quiet))
        var settled = 0
        return (bar.note, { epochs in
            settled += epochs
            bar.update(settled)
        }, bar)
    }

    /// --seeds: each model's metrics at k = 10 as mean and spread over the seeds, then each RL
    /// agent against the sequential ranker across them.
    private func runSeeds(_ evaluation: LeaveOneOutEvaluation, log: UserSequences, categories: [Int32], name: String) throws {
        let result: LeaveOneOutEvaluation.SeedsReport
        let (progress, epochs, bar) = progressReports(evaluation, seeds: seedList.count)
        do { result = try evaluation.run(log, categories: categories, seeds: seedList, progress: progress, epochs: epochs) } catch { throw commandLineError(error) }
        bar.finish()
        if let htmlReport {
            do { try seedsReport(result, dataset: name).write(to: htmlReport) } catch { throw CommandFailure("--report \(htmlReport): writing failed: \(error)") }
        }
        func moments(_ values: [Double]) -> (mean: Double, spread: Double) {
            let (mean, variance) = sampleMoments(values)
            return (mean, variance.squareRoot())
        }
        // The models in training order; ALS's label names the settings validation chose for a seed.
        let models = result.reports[0].rows.indices.map { i in String(result.reports[0].rows[i].model.prefix { $0 != "(" && $0 != "," }).trimmingCharacters(in: .whitespaces) }
        let columns: [(String, (RankingMetrics) -> Double)] = [("HR@10", \.hitRate), ("NDCG@10", \.ndcg), ("MRR@10", \.mrr), ("coverage", \.coverage), ("novelty", \.novelty)]
        if json {
            for (i, model) in models.enumerated() {
                var fields: [(String, JSONLine.Value)] = [("model", .string(model)), ("seeds", .int(seedList.count))]
                for (title, value) in columns {
                    let (mean, spread) = moments(result.reports.map { value($0.rows[i].metrics) })
                    fields += [(title.lowercased(), .double(mean)), (title.lowercased() + "_spread", .double(spread))]
                }
                print(JSONLine(fields).text)
            }
            for (agent, rows) in result.comparisons {
                for row in rows {
                    print(JSONLine([("comparison", .string("\(agent.rawValue) − sequential")), ("metric", .string(row.metric)), ("k", .int(10)),
                                    ("mean_difference", .float(row.meanDifference)), ("seed_spread", .float(row.seedSpread)),
                                    ("ci_low", .float(row.ciLow)), ("ci_high", .float(row.ciHigh)),
                                    ("differences", .string(row.differences.map { String($0) }.joined(separator: " ")))]).text)
                }
            }
            for (seed, report) in zip(seedList, result.reports) {
                for (agent, rows) in report.comparisons {
                    for row in rows {
                        print(JSONLine([("comparison", .string("\(agent.rawValue) − sequential")), ("seed", .int(Int(seed))), ("metric", .string(row.metric)),
                                        ("k", .int(10)), ("difference", .float(row.difference)), ("ci_low", .float(row.ciLow)),
                                        ("ci_high", .float(row.ciHigh))]).text)
                    }
                }
            }
            return
        }
        print("\(name), leave-one-out by time, seeds \(seedList.map(String.init).joined(separator: ", ")): mean ± spread over the seeds")
        var table = [["model"] + columns.map(\.0)]
        for (i, model) in models.enumerated() {
            table.append([model] + columns.map { title, value in
                let (mean, spread) = moments(result.reports.map { value($0.rows[i].metrics) })
                return String(format: title == "novelty" ? "%.2f ± %.2f" : "%.4f ± %.4f", mean, spread)
            })
        }
        printColumns(table)
        for (agent, rows) in result.comparisons {
            print("\n\(agent.rawValue) − sequential of the same seed, at k = 10; 95% interval over users and seeds")
            var lines = [["metric", "mean diff", "spread", "95% CI", "per seed"]]
            for row in rows {
                lines.append([row.metric, String(format: "%+.4f", row.meanDifference), String(format: "%.4f", row.seedSpread),
                              String(format: "[%+.4f, %+.4f]", row.ciLow, row.ciHigh), row.differences.map { String(format: "%+.4f", $0) }.joined(separator: " ")])
            }
            printColumns(lines)
            // Each seed's own paired comparison over its users.
            print("\(agent.rawValue) − sequential, seed by seed; 95% paired interval over users")
            let seedRows = result.reports.map { $0.comparisons.first { $0.agent == agent }!.differences }
            var bySeed = [["seed"] + seedRows[0].map(\.metric)]
            for (seed, row) in zip(seedList, seedRows) {
                bySeed.append([String(seed)] + row.map { String(format: "%+.4f [%+.4f, %+.4f]", $0.difference, $0.ciLow, $0.ciHigh) + ($0.isSignificant ? " *" : "") })
            }
            printColumns(bySeed)
        }
    }
}
