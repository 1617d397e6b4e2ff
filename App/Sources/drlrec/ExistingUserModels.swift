import DRLData
import DRLSimulation
import ArgumentParser
import Foundation

/// The models the e-commerce platform trains on the logs of its existing users
/// (`EcommerceSetup.existingUsers`, seeded from `EcommerceSetup.existingUsersSeed`, served by the
/// myopic recommender): implicit ALS on their clicks, the group profiles of cold-start transfer
/// from its user factors, and the supervised deep ranker on their click sequences. Each is built
/// once, on first use.
final class ExistingUserModels {
    let environment: RecommendationEnvironment
    let groups: Int
    private var built: (policy: ALSPolicy, log: InteractionLog)?
    private var ranker: DeepRankerPolicy?

    init(environment: RecommendationEnvironment, groups: Int = 32) {
        self.environment = environment
        self.groups = groups
    }

    /// ALS fitted on the existing users' clicks.
    func als() throws -> ALSPolicy { try build().policy }

    /// The group profiles learned from the existing users' ALS factors and demographics.
    func profiles() throws -> UserGroupProfiles {
        let (policy, log) = try build()
        say("clustering their factors into \(groups) user groups...")
        return UserGroupProfiles(als: policy.model, demographics: log.demographicMatrix, groups: groups, seed: EcommerceSetup.existingUsersSeed)
    }

    private func build() throws -> (policy: ALSPolicy, log: InteractionLog) {
        if let built { return built }
        let users = EcommerceSetup.existingUsers
        say("logging \(users) existing users under the myopic recommender and fitting implicit ALS...")
        let start = Sampler.now()
        let result = try ALSPolicy.trained(on: environment, logging: MyopicGreedyPolicy(catalogue: environment.catalogue), users: users,
                                           seed: EcommerceSetup.existingUsersSeed)
        say(String(format: "  %d clicks; done in %.1f s", result.log.clicks.reduce(0) { $0 + $1.count }, Sampler.now() - start))
        built = result
        return result
    }

    /// The supervised deep ranker (attention encoder over the last `EcommerceSetup.historyTokens`
    /// clicks), trained on the existing users' next clicks.
    func deepRanker() throws -> DeepRankerPolicy {
        if let ranker { return ranker }
        guard let platform = environment as? EcommerceSimulator else {
            throw ValidationError("deep-ranker runs on ecommerce, whose platform keeps click sequences")
        }
        let users = EcommerceSetup.existingUsers, history = EcommerceSetup.historyTokens
        say("logging \(users) existing users' click sequences and training the deep ranker...")
        let start = Sampler.now()
        let examples = logNextClicks(MyopicGreedyPolicy(catalogue: platform.catalogue), on: platform, historyTokens: history, users: users,
                                     seed: EcommerceSetup.existingUsersSeed)
        let model = DeepRankerPolicy(layout: platform.stateEncoderLayout(historyTokens: history), seed: EcommerceSetup.existingUsersSeed)
        do { try model.train(on: examples, seed: EcommerceSetup.existingUsersSeed) } catch { throw ValidationError("training the deep ranker: \(error)") }
        say(String(format: "  %d clicks, cross-entropy %.3f → %.3f; done in %.1f s", examples.count,
                   model.epochLosses.first!, model.epochLosses.last!, Sampler.now() - start))
        ranker = model
        return model
    }
}
