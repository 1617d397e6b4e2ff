import DRLData
import DRLEvaluation
import DRLTensor

/// The off-policy check a candidate must pass before it is released or promoted: the lower bound
/// of the candidate's interval, as the chosen estimator finds it on the served logs, must reach
/// production's estimate on the same logs (less `margin` of it, when given: with no margin, a
/// candidate only as good as production is refused more often than not). Both are replayed under
/// the exploration they would be served with.
public struct OffPolicyGate: Sendable {
    public var estimator: SlateOffPolicyEstimator
    public var confidence: Double
    public var resamples: Int
    public var exploration: SlateExploration
    /// Events kept per user, as the service is configured.
    public var historyCapacity: Int
    /// The share of production's estimate (in absolute value) the candidate's lower bound may fall short by.
    public var margin: Double
    /// What the reward model of the direct method, DR and switch-DR keys an item's attraction by.
    public var rewardModel: SlateRewardModel.Key
    /// Switch-DR's τ (read by that estimator alone).
    public var switchThreshold: Double

    public init(estimator: SlateOffPolicyEstimator = .doublyRobust, confidence: Double = 0.95, resamples: Int = 1_000,
                exploration: SlateExploration = .greedy, historyCapacity: Int = 200, margin: Double = 0, rewardModel: SlateRewardModel.Key = .item,
                switchThreshold: Double = SlateOffPolicyEstimator.defaultSwitchThreshold) {
        require(margin >= 0 && margin.isFinite, "OffPolicyGate: the margin must be non-negative, got \(margin)")
        require(switchThreshold >= 0, "OffPolicyGate: switch-DR's threshold must be non-negative, got \(switchThreshold)")
        (self.estimator, self.confidence, self.resamples, self.exploration, self.historyCapacity, self.margin, self.rewardModel) =
            (estimator, confidence, resamples, exploration, historyCapacity, margin, rewardModel)
        self.switchThreshold = switchThreshold
    }

    /// An estimated value per list with its confidence interval.
    public struct Estimate: Sendable, Equatable {
        public var value: Double, low: Double, high: Double
        public init(value: Double, low: Double, high: Double) { (self.value, self.low, self.high) = (value, low, high) }
    }

    /// Both estimates on the same lists and whether the candidate passes.
    public struct Verdict: Sendable {
        public var candidate: Estimate
        public var production: Estimate
        public var lists: Int
        public var estimator: SlateOffPolicyEstimator
        /// What the candidate's lower bound must reach: production's estimate less the margin.
        public var threshold: Double
        /// The reward model's key and switch-DR's τ, named in the summary where the estimator reads them.
        public var rewardModel: SlateRewardModel.Key, switchThreshold: Double

        public init(candidate: Estimate, production: Estimate, lists: Int, estimator: SlateOffPolicyEstimator, margin: Double = 0,
                    rewardModel: SlateRewardModel.Key = .item, switchThreshold: Double = SlateOffPolicyEstimator.defaultSwitchThreshold) {
            (self.candidate, self.production, self.lists, self.estimator) = (candidate, production, lists, estimator)
            threshold = production.value - margin * abs(production.value)
            (self.rewardModel, self.switchThreshold) = (rewardModel, switchThreshold)
        }

        /// The estimator as the summary names it: switch-DR with its τ, and a reward model other
        /// than the item-keyed one for the estimators that read it.
        private var method: String {
            let readsModel = [.directMethod, .doublyRobust, .switchDoublyRobust].contains(estimator)
            return estimator.rawValue + (estimator == .switchDoublyRobust ? " (τ \(rounded(switchThreshold)))" : "")
                + (readsModel && rewardModel != .item ? " on the \(rewardModel.rawValue) reward model" : "")
        }

        /// Whether the candidate's lower bound reaches the threshold.
        public var passes: Bool { candidate.low >= threshold }

        /// The numbers, for a refusal's message and the audit trail.
        public var summary: String {
            func show(_ e: Estimate) -> String { "\(rounded(e.value)) [\(rounded(e.low)), \(rounded(e.high))]" }
            return "off-policy \(method) over \(lists) served lists: candidate \(show(candidate)), production \(show(production))"
                + (passes ? "" : "; the candidate's lower bound \(rounded(candidate.low)) is below "
                    + (threshold == production.value ? "production's estimate \(rounded(production.value))" : "\(rounded(threshold)), production's estimate less the margin"))
        }

        private func rounded(_ x: Double) -> String { String(format: "%.4g", x) }
    }

    /// The verdict on `candidate` against `production` from the served lists `log` and the feedback
    /// log `feedback` (which rebuilds the users' histories).
    public func verdict(candidate: any ServableModel, production: any ServableModel, log: ServedSlateLog,
                        feedback: LoggedInteractions) throws(ServedLogError) -> Verdict {
        guard !log.slates.isEmpty else { throw ServedLogError("the impression log has no served lists to estimate from") }
        let rewardModel = SlateRewardModel(slates: log.slates, key: self.rewardModel)
        func estimate(_ model: any ServableModel) throws(ServedLogError) -> Estimate {
            let data = try ServedLogReplay.offPolicyData(of: model, exploration: exploration, log: log, feedback: feedback,
                                                         rewardModel: rewardModel, popularityBase: production.itemCounts,
                                                         historyCapacity: historyCapacity)
            let (value, low, high) = estimator.estimateWithInterval(data, resamples: resamples, confidence: confidence,
                                                                       switchThreshold: switchThreshold)
            return Estimate(value: value, low: low, high: high)
        }
        return Verdict(candidate: try estimate(candidate), production: try estimate(production), lists: log.slates.count, estimator: estimator,
                       margin: margin, rewardModel: self.rewardModel, switchThreshold: switchThreshold)
    }
}
