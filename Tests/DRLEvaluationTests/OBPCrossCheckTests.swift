import DRLEvaluation
import DRLNN
import DRLTensor
import Foundation
import Testing

/// DRLRec's estimators against obp 0.4.1's on the same inputs: Open Bandit Dataset rounds (Random
/// logs, campaign all) with obp's Bernoulli TS as the evaluation policy and obp's cross-fitted
/// logistic regression as the reward model, written with obp's estimates by
/// scripts/obp_crosscheck.py (the inputs rounded to float32 before obp read them).
@Suite struct OBPCrossCheckTests {
    @Test func estimatesMatchObp() throws {
        let path = try #require(Bundle.module.path(forResource: "obp_crosscheck", ofType: "safetensors", inDirectory: "Fixtures"))
        let (tensors, metadata) = try SafeTensors.read(from: path)
        let named = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        let actions = try #require(named["actions"]).scalars.map { Int32(exactly: $0)! }
        let data = OffPolicyData(actions: actions, rewards: try #require(named["rewards"]).scalars,
                                 propensities: try #require(named["propensities"]).scalars,
                                 evaluationProbabilities: try #require(named["evaluation_probabilities"]),
                                 rewardEstimates: try #require(named["reward_estimates"]))
        #expect(data.rounds > 300 && data.actionCount == 80 && data.rewards.contains(1))
        let h = OffPolicyEstimator.Hyperparameters(switchThreshold: try #require(Double(metadata["switch_threshold"] ?? "")),
                                                   shrinkage: try #require(Double(metadata["shrinkage"] ?? "")))
        // The fixture's threshold switches some rounds' residuals off and its shrinkage moves the
        // others, so both differ from DR here.
        #expect((0..<data.rounds).contains { data.weight($0) > h.switchThreshold && data.residual($0) != 0 })
        for estimator in OffPolicyEstimator.allCases {
            let expected = try #require(Double(metadata["obp.\(estimator.rawValue)"] ?? ""), "no obp estimate for \(estimator)")
            let value = estimator.estimate(data, over: Array(0..<data.rounds), hyperparameters: h)
            // obp's DM divides Σₐ π_e q̂ by Σₐ π_e (np.average), which is 1 to float32 rounding.
            #expect(abs(value - expected) <= 1e-6 * abs(expected), "\(estimator): DRLRec \(value), obp \(expected)")
        }
    }
}
