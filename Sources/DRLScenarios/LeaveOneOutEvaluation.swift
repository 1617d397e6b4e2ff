import DRLData
import DRLEvaluation
import DRLRanking
import DRLTensor
import Foundation

/// The offline evaluation of `drlrec evaluate` (on MovieLens-100K): chronological leave-one-out
/// (each user's last interaction is the test item, the one before it the validation item), every
/// model ranking all items the user has not interacted with. Models: popularity; implicit ALS, its
/// regularisation and confidence chosen by validation NDCG@10; the sequential ranker (the attention
/// state encoder over the last 50 interactions, trained to predict the next item at every
/// position), its epoch chosen by validation NDCG@10; and its offline-RL forms, rewarded by the
/// ratings: SQN (a Q-learning head trained by TD on the logged transitions), cross-entropy plus
/// α × REINFORCE with the top-K off-policy correction against a learned behaviour policy (Chen et
/// al., WSDM 2019), and that agent with the recommended items' novelty in its reward. Each RL agent
/// is compared with the sequential ranker on the same users, with paired bootstrap intervals.
public struct LeaveOneOutEvaluation {
    /// The offline RL forms of the sequential ranker: SQN, the corrected REINFORCE, and that
    /// agent with novelty in its reward.
    public enum Agent: String, CaseIterable, Sendable {
        case sqn, reinforce, reinforceNovelty = "reinforce-novelty"
    }

    /// Seed of the models' initialisation and training order.
    public var seed: UInt64 = 0
    /// Weight of SQN's TD loss beside the cross-entropy.
    public var qLearningWeight: Float = 1
    /// Weight α of the corrected REINFORCE loss beside the cross-entropy.
    public var reinforceWeight: Float = 0.1
    /// The corrected REINFORCE's slate size K and its cap on the importance weight π/β.
    public var slateSize = 10
    public var weightCap: Float = 10
    /// Weights λ of novelty in reinforce-novelty's reward; with several, each is trained and
    /// validation chooses the largest that is not significantly below the sequential ranker's on
    /// any of the `noveltyGuards`.
    public var noveltyRewards: [Float] = [3, 10, 30]
    /// The validation metrics at k = 10 ("hr@10", "ndcg@10", "mrr@10") on which the chosen λ must
    /// be on par with the sequential ranker.
    public var noveltyGuards = ["hr@10"]
    public static let guardableMetrics = ["hr@10", "ndcg@10", "mrr@10"]
    /// The RL agents trained and compared with the sequential ranker.
    public var agents: [Agent] = Agent.allCases
    /// What the sequential ranker and every RL agent share: the network, its training (epochs,
    /// dropout, early stopping; the epoch with the best validation NDCG@10 is kept) and the discount
    /// γ of later rewards (SQN's TD target, REINFORCE's return). Each agent adds its objective.
    public var ranker = NextItemModel.Configuration()
    /// How the RL agents start: nil, each from the ranker's initialisation, trained as long as the
    /// ranker (its epochs and early stopping); or on top of the trained ranker, from its kept
    /// weights, for `epochs` more epochs at `learningRate` (nil: the ranker's), optionally held to
    /// the ranker by a KL `anchor`, keeping the epoch with the best validation NDCG@10 as the
    /// ranker does.
    public var fineTuning: FineTuning?

    /// RL agents trained on top of the sequential ranker (`fineTuning`).
    public struct FineTuning: Sendable, Equatable {
        /// Epochs trained on top of the ranker (validated as the ranker is, and at the last).
        public var epochs: Int
        /// Adam's learning rate on top of the ranker (nil: the ranker's).
        public var learningRate: Float?
        /// Weight of a KL penalty that holds the agent's next-item distribution to the ranker's
        /// (distillation from the ranker at temperature 1; nil: none). The regularised policy
        /// improvement of trust-region methods: without it, training on from the kept weights moves
        /// the model by itself (towards popular items in some seeds), whatever the agent's reward.
        public var anchor: Float?
        public init(epochs: Int, learningRate: Float? = nil, anchor: Float? = nil) {
            require(epochs >= 1 && (learningRate.map { $0 > 0 && $0.isFinite } ?? true) && (anchor.map { $0 > 0 && $0.isFinite } ?? true),
                    "LeaveOneOutEvaluation.FineTuning: \(epochs) epochs at learning rate \(learningRate.map { "\($0)" } ?? "the ranker's"), anchor \(anchor.map { "\($0)" } ?? "none")")
            (self.epochs, self.learningRate, self.anchor) = (epochs, learningRate, anchor)
        }
    }

    public init() {}

    /// The cutoffs every model is tested at; the comparisons and model selection use k = 10.
    public var cutoffs = [5, 10, 20]

    /// One model's test metrics and its training time.
    public struct Row: Sendable {
        public let model: String
        /// At k = 10.
        public let metrics: RankingMetrics
        /// At each of `cutoffs`, in order.
        public let cutoffs: [RankingMetrics]
        public let seconds: Double
    }

    /// Every model's row and each RL agent's paired comparison with the sequential ranker.
    public struct Report: Sendable {
        /// One row per model, in the order trained.
        public let rows: [Row]
        /// Each RL agent's differences from the sequential ranker, metric by metric.
        public let comparisons: [(agent: Agent, differences: [MetricComparison])]
        /// Users with a test item.
        public let testUsers: Int
        /// At k = 10: the sequential ranker's metrics and each RL agent's.
        public let sequential: RankingMetrics
        public let agentMetrics: [Agent: RankingMetrics]
    }

    /// The protocol run once per training seed (`seed` set to each in turn).
    public struct SeedsReport: Sendable {
        public let seeds: [UInt64]
        /// One report per seed, in order.
        public let reports: [Report]
        /// Each RL agent against the sequential ranker of the same seed: the mean difference over
        /// the seeds, its spread and an interval over users and seeds (`compareAcrossSeeds`), at
        /// k = 10 (metrics hr, ndcg, mrr, coverage, novelty).
        public let comparisons: [(agent: Agent, differences: [SeedComparison])]
    }

    /// The ranker epochs a run trains at most (early stopping may end a model sooner), over
    /// `seeds` seeds: the sequential ranker's and each RL agent's (one per novelty weight λ), the
    /// work `run`'s `epochs` callback counts. ALS and the tests take a small share of the time.
    public func epochsAtMost(seeds: Int = 1) -> Int {
        let agentModels = agents.map { $0 == .reinforceNovelty ? noveltyRewards.count : 1 }.reduce(0, +)
        return seeds * (ranker.epochs + agentModels * (fineTuning?.epochs ?? ranker.epochs))
    }

    /// Trains and tests every model on `data` once per seed of `seeds`, and compares each RL agent
    /// with the sequential ranker across them. `epochs` is called as in the one-seed `run`.
    public func run(_ data: UserSequences, categories: [Int32], seeds: [UInt64], progress: ProgressReport = { _ in },
                    epochs: (Int) -> Void = { _ in }) throws(ScenarioError) -> SeedsReport {
        require(!seeds.isEmpty, "LeaveOneOutEvaluation: no seeds")
        var reports: [Report] = []
        for s in seeds {
            progress("seed \(s)")
            var one = self
            one.seed = s
            reports.append(try one.run(data, categories: categories, progress: progress, epochs: epochs))
        }
        let controls = reports.map { RankingReport(policy: "sequential", metrics: $0.sequential) }
        let comparisons = reports[0].comparisons.map { agent, _ in
            (agent, compareAcrossSeeds(controls: controls, treatments: reports.map { RankingReport(policy: agent.rawValue, metrics: $0.agentMetrics[agent]!) },
                                       seed: seed))
        }
        return SeedsReport(seeds: seeds, reports: reports, comparisons: comparisons)
    }

    /// Trains and tests every model on `data`, each item in its `categories` entry. After each
    /// ranker epoch `epochs` is called with the epochs of `epochsAtMost()` settled by it: 1, or
    /// more when early stopping ends a model and its remaining epochs will not be trained.
    public func run(_ data: UserSequences, categories: [Int32], progress: ProgressReport = { _ in },
                    epochs: (Int) -> Void = { _ in }) throws(ScenarioError) -> Report {
        require(!cutoffs.isEmpty && cutoffs.allSatisfy { $0 >= 1 } && ranker.epochs > 0 && ranker.gamma >= 0 && ranker.gamma < 1 && ranker.dropout >= 0 && ranker.dropout < 1 && reinforceWeight > 0 && slateSize >= 1 && weightCap > 0
                    && qLearningWeight > 0 && !noveltyRewards.isEmpty && noveltyRewards.allSatisfy { $0 > 0 && $0.isFinite }
                    && !noveltyGuards.isEmpty && noveltyGuards.allSatisfy(Self.guardableMetrics.contains),
                "LeaveOneOutEvaluation: epochs \(ranker.epochs), γ \(ranker.gamma), dropout \(ranker.dropout), α \(reinforceWeight), K \(slateSize), cap \(weightCap), SQN weight \(qLearningWeight), λ \(noveltyRewards), guards \(noveltyGuards) (of \(Self.guardableMetrics))")
        let split = LeaveOneOutSplit(data)
        progress("\(data.count) interactions of \(data.userCount) users on \(data.itemCount) items; leave-one-out by time")
        var rows: [Row] = []

        // Intra-list diversity needs more than one category.
        let diversityCategories = Set(categories).count > 1 ? categories : nil
        let cutoffs = Array(Set(self.cutoffs + [10])).sorted(), main = cutoffs.firstIndex(of: 10)!
        func row(_ model: String, _ metrics: [RankingMetrics], _ seconds: Double) -> RankingMetrics {
            rows.append(Row(model: model, metrics: metrics[main], cutoffs: metrics, seconds: seconds))
            return metrics[main]
        }

        var start = ContinuousClock.now
        let counts = Tensor(shape: Shape(split.items), scalars: split.trainingCounts)
        let popularity = row("popularity", evaluateRanking(split, on: .test, cutoffs: cutoffs, categories: diversityCategories) { _, scores in
            scores.copy(from: counts)
        }, secondsSince(start))

        start = ContinuousClock.now
        let (als, label) = try bestALS(split, progress: progress)
        _ = row(label, evaluateRanking(split, on: .test, cutoffs: cutoffs, categories: diversityCategories) { user, scores in
            gemv(als.itemFactors, als.userFactors[row: user], into: &scores)
        }, secondsSince(start))

        // The sequential ranker (each item's category from `categories`), then its offline-RL forms.
        func test(_ trained: TrainedRanker) -> RankingMetrics {
            row(trained.label, trained.model.evaluate(split, on: .test, cutoffs: cutoffs, categories: diversityCategories), trained.seconds)
        }
        let sequential = try trainSequential("sequential, attention encoder", categories: categories, split: split,
                                             progress: progress, epochs: epochs)
        let supervised = test(sequential)
        var comparisons: [(agent: Agent, differences: [MetricComparison])] = []
        var agentMetrics: [Agent: RankingMetrics] = [:]
        let corrected = NextItemModel.CorrectedReinforce(weight: reinforceWeight, slateSize: slateSize, weightCap: weightCap)
        for agent in Agent.allCases where agents.contains(agent) {
            let metrics: RankingMetrics
            switch agent {
            case .sqn:
                metrics = test(try trainSequential("sqn, the same with a Q head", categories: categories, split: split,
                                                   qLearningWeight: qLearningWeight, from: sequential.model, progress: progress, epochs: epochs))
            case .reinforce:
                metrics = test(try trainSequential("reinforce, top-\(slateSize) off-policy corrected", categories: categories,
                                                   split: split, reinforce: corrected, from: sequential.model, progress: progress, epochs: epochs))
            case .reinforceNovelty:
                metrics = test(try noveltyRewarded(categories: categories, split: split, sequential: sequential.model,
                                                   progress: progress, epochs: epochs))
            }
            comparisons.append((agent, compareRankings(control: supervised, treatment: metrics)))
            agentMetrics[agent] = metrics
        }
        return Report(rows: rows, comparisons: comparisons, testUsers: popularity.users, sequential: supervised, agentMetrics: agentMetrics)
    }

    /// Implicit ALS (64 factors, 10 iterations) with the regularisation and confidence of the best
    /// validation NDCG@10, and its label.
    private func bestALS(_ split: LeaveOneOutSplit, progress: ProgressReport) throws(ScenarioError) -> (ImplicitALS, String) {
        let matrix = split.trainingMatrix()
        var best: (model: ImplicitALS, ndcg: Double, label: String)?
        for regularization: Float in [0.1, 1, 10] {
            for confidence: Float in [1, 10] {
                var configuration = ImplicitALS.Configuration()
                configuration.factors = 64
                configuration.regularization = regularization
                configuration.confidence = confidence
                configuration.iterations = 10
                let model = ImplicitALS(users: split.users, items: split.items, configuration: configuration, seed: seed)
                do { try model.fit(matrix) } catch { throw .training(model: "implicit ALS (λ \(regularization), α \(confidence))", error) }
                let validation = evaluateRanking(split, on: .validation) { user, scores in
                    gemv(model.itemFactors, model.userFactors[row: user], into: &scores)
                }
                progress(String(format: "  als λ %g α %g: validation NDCG@10 %.4f", regularization, confidence, validation.ndcg))
                if validation.ndcg > best?.ndcg ?? -1 { best = (model, validation.ndcg, "als (64 factors, λ \(regularization), α \(confidence))") }
            }
        }
        return (best!.model, best!.label)
    }

    private struct TrainedRanker {
        let model: NextItemModel
        var label: String
        var seconds: Double
    }

    /// Trains the sequential ranker (no objective beside the cross-entropy), or an RL agent with
    /// its objective: from the initialisation, or with `fineTuning` from `ranker`'s weights.
    private func trainSequential(_ label: String, categories: [Int32], split: LeaveOneOutSplit,
                                 qLearningWeight: Float = 0, reinforce: NextItemModel.CorrectedReinforce? = nil,
                                 from trainedRanker: NextItemModel? = nil,
                                 progress: ProgressReport, epochs: (Int) -> Void) throws(ScenarioError) -> TrainedRanker {
        let start = ContinuousClock.now
        var configuration = ranker
        configuration.qLearningWeight = qLearningWeight
        configuration.reinforce = reinforce
        let fineTuned = trainedRanker != nil ? fineTuning : nil
        if let fineTuned {
            configuration.epochs = fineTuned.epochs
            configuration.learningRate = fineTuned.learningRate ?? configuration.learningRate
        }
        let model = NextItemModel(sequences: split.sequences, categories: categories, configuration: configuration, seed: seed)
        var anchor: NextItemModel.Distillation?
        if let fineTuned, let trainedRanker {
            model.startFrom(trainedRanker)
            if let weight = fineTuned.anchor { anchor = .init(teacher: trainedRanker, temperature: 1, weight: weight) }
        }
        do {
            try model.train(on: split, seed: seed, distillation: anchor) { epoch, loss, ndcg in
                let validation = ndcg.map { String(format: ", validation NDCG@10 %.4f", $0) } ?? ""
                progress(String(format: "  %@ epoch %d: cross-entropy %.3f%@", label, epoch, loss, validation))
                epochs(1)
            }
        } catch {
            throw .training(model: label, error)
        }
        let trained = model.validationCurve.last?.epoch ?? configuration.epochs
        if trained < configuration.epochs { epochs(configuration.epochs - trained) }
        let bestEpoch = model.validationCurve.max { $0.ndcg < $1.ndcg }!.epoch
        let kept = fineTuned != nil ? "\(bestEpoch) on top of the ranker" : "\(bestEpoch)"
        return TrainedRanker(model: model, label: "\(label) (epoch \(kept))", seconds: secondsSince(start))
    }

    /// The corrected REINFORCE rewarded by the ratings and λ × the novelty of its recommendations,
    /// λ chosen on the validation items: the largest not significantly below the sequential
    /// ranker's on any of `noveltyGuards` (the most novel agent still on par), else the smallest.
    private func noveltyRewarded(categories: [Int32], split: LeaveOneOutSplit, sequential: NextItemModel,
                                 progress: ProgressReport, epochs: (Int) -> Void) throws(ScenarioError) -> TrainedRanker {
        let supervisedValidation = sequential.evaluate(split, on: .validation)
        let lambdas = noveltyRewards.sorted()
        var chosen: TrainedRanker?
        var seconds = 0.0
        for lambda in lambdas {
            var trained = try trainSequential(String(format: "reinforce-novelty, the same with λ %g × novelty in the reward", Double(lambda)),
                                              categories: categories, split: split,
                                              reinforce: .init(weight: reinforceWeight, slateSize: slateSize, weightCap: weightCap,
                                                               noveltyReward: lambda),
                                              from: sequential, progress: progress, epochs: epochs)
            seconds += trained.seconds
            let validation = trained.model.evaluate(split, on: .validation)
            let comparisons = compareRankings(control: supervisedValidation, treatment: validation)
            let guarded = noveltyGuards.map { name in comparisons.first { $0.metric == name }! }
            let level = guarded.allSatisfy { $0.ciHigh >= 0 }
            func describe(_ c: MetricComparison) -> String {
                String(format: "%@ %+.4f [%+.4f, %+.4f]", c.metric.contains("@") ? c.metric.uppercased() : c.metric, c.difference, c.ciLow, c.ciHigh)
            }
            let gains = ["coverage", "novelty"].map { name in describe(comparisons.first { $0.metric == name }!) }
            progress(String(format: "  reinforce-novelty λ %g on the validation items: %@ against the sequential ranker (%@); %@",
                            Double(lambda), guarded.map(describe).joined(separator: ", "), level ? "on par" : "below", gains.joined(separator: ", ")))
            if lambdas.count > 1 {
                trained.label += ", λ chosen by validation from \(lambdas.map { String(format: "%g", Double($0)) }.joined(separator: "/"))"
            }
            if level || chosen == nil { chosen = trained }
        }
        chosen!.seconds = seconds
        return chosen!
    }
}
