import DRLRecommend
import Foundation

/// The collaborative models of the e-commerce platform, built from its existing users
/// (`EcommerceSetup.existingUsers`, seeded from `EcommerceSetup.existingUsersSeed`): their clicks
/// under the myopic recommender are logged, implicit ALS is fitted on them, and its user factors
/// are clustered into the group profiles of cold-start transfer. Built once, on first use.
final class CollaborativeSetup {
    let environment: RecommendationEnvironment
    let groups: Int
    private var built: (policy: ALSPolicy, log: InteractionLog)?

    init(environment: RecommendationEnvironment, groups: Int = 32) {
        self.environment = environment
        self.groups = groups
    }

    /// ALS fitted on the existing users' clicks.
    func als() throws -> ALSPolicy { try build().policy }

    /// The group profiles learned from the existing users' ALS factors and demographics.
    func profiles() throws -> UserGroupProfiles {
        let (policy, log) = try build()
        FileHandle.standardError.write(Data("clustering their factors into \(groups) user groups...\n".utf8))
        return UserGroupProfiles(als: policy.model, demographics: log.demographicMatrix, groups: groups, seed: EcommerceSetup.existingUsersSeed)
    }

    private func build() throws -> (policy: ALSPolicy, log: InteractionLog) {
        if let built { return built }
        let users = EcommerceSetup.existingUsers
        FileHandle.standardError.write(Data("logging \(users) existing users under the myopic recommender and fitting implicit ALS...\n".utf8))
        let start = Sampler.now()
        let result = try ALSPolicy.trained(on: environment, logging: MyopicGreedyPolicy(catalogue: environment.catalogue), users: users,
                                           seed: EcommerceSetup.existingUsersSeed)
        FileHandle.standardError.write(Data(String(format: "  %d clicks; done in %.1f s\n", result.log.clicks.reduce(0) { $0 + $1.count },
                                                   Sampler.now() - start).utf8))
        built = result
        return result
    }
}
