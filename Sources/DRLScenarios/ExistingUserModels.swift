import DRLData
import DRLSimulation
import DRLTensor
import Foundation

/// The models the e-commerce platform trains on the logs of its existing users (a fixed
/// population served by the myopic recommender, so that every recipe rebuilds the same models):
/// implicit ALS on their clicks, the group profiles of cold-start transfer from its user factors,
/// and the supervised deep ranker on their click sequences. Each is built once, on first use.
public final class ExistingUserModels {
    /// The platform's existing users and the seed of their population.
    public static let users = 3_000
    public static let seed: UInt64 = 1 << 42

    public let environment: RecommendationEnvironment
    /// User groups of cold-start transfer.
    public let groups: Int
    private let progress: ProgressReport
    private var built: (policy: ALSPolicy, log: InteractionLog)?
    private var ranker: DeepRankerPolicy?

    public init(environment: RecommendationEnvironment, groups: Int = 32, progress: @escaping ProgressReport = { _ in }) {
        require((1...Self.users).contains(groups), "ExistingUserModels: groups must be in 1...\(Self.users) (the existing users), got \(groups)")
        self.environment = environment
        self.groups = groups
        self.progress = progress
    }

    /// ALS fitted on the existing users' clicks.
    public func als() throws(ScenarioError) -> ALSPolicy { try build().policy }

    /// How often the existing users clicked each item.
    public func clickCounts() throws(ScenarioError) -> [Float] {
        var counts = [Float](repeating: 0, count: environment.catalogue.count)
        for user in try build().log.clicks { for item in user { counts[Int(item)] += 1 } }
        return counts
    }

    /// The group profiles learned from the existing users' ALS factors and demographics.
    public func profiles() throws(ScenarioError) -> UserGroupProfiles {
        let (policy, log) = try build()
        progress("clustering their factors into \(groups) user groups...")
        return UserGroupProfiles(als: policy.model, demographics: log.demographicMatrix, groups: groups, seed: Self.seed)
    }

    private func build() throws(ScenarioError) -> (policy: ALSPolicy, log: InteractionLog) {
        if let built { return built }
        progress("logging \(Self.users) existing users under the myopic recommender and fitting implicit ALS...")
        let start = ContinuousClock.now
        let result: (policy: ALSPolicy, log: InteractionLog)
        do {
            result = try ALSPolicy.trained(on: environment, logging: MyopicGreedyPolicy(catalogue: environment.catalogue), users: Self.users,
                                           seed: Self.seed)
        } catch {
            throw .training(model: "implicit ALS on the existing users' clicks", error)
        }
        progress(String(format: "  %d clicks; done in %.1f s", result.log.clicks.reduce(0) { $0 + $1.count }, secondsSince(start)))
        built = result
        return result
    }

    /// The supervised deep ranker (attention encoder over the last `SlateRanker.historyTokens`
    /// clicks), trained on the existing users' next clicks; e-commerce only.
    public func deepRanker() throws(ScenarioError) -> DeepRankerPolicy {
        if let ranker { return ranker }
        guard let platform = environment as? EcommerceSimulator else { throw .needsEcommerce(policy: "deep-ranker") }
        let history = SlateRanker.historyTokens
        progress("logging \(Self.users) existing users' click sequences and training the deep ranker...")
        let start = ContinuousClock.now
        let examples = logNextClicks(MyopicGreedyPolicy(catalogue: platform.catalogue), on: platform, historyTokens: history, users: Self.users,
                                     seed: Self.seed)
        let model = DeepRankerPolicy(layout: platform.stateEncoderLayout(historyTokens: history), seed: Self.seed)
        do { try model.train(on: examples, seed: Self.seed) } catch { throw .training(model: "the deep ranker", error) }
        progress(String(format: "  %d clicks, cross-entropy %.3f → %.3f; done in %.1f s", examples.count,
                        model.epochLosses.first!, model.epochLosses.last!, secondsSince(start)))
        ranker = model
        return model
    }
}
