import DRLRecommend
import DRLTensor
import Foundation
import Testing

@Suite struct OffPolicyEstimatorTests {

    /// Logged data with a known truth: contexts x ∈ ℝ³, click probabilities σ(θₐ·x − 1) for five
    /// actions, a softmax logging policy and another softmax evaluation policy. The truth is the
    /// evaluation policy's expected reward on these contexts.
    static func synthetic(rounds: Int = 10_000, rewardModel: (_ truth: Float) -> Float = { $0 }, propensityScale: Float = 1)
        -> (data: OffPolicyData, truth: Double) {
        let k = 5
        var rng = RandomGenerator(seed: 11)
        let theta = (0..<k).map { _ in (0..<3).map { _ in rng.normal() } }
        let behaviourScores = (0..<k).map { _ in (0..<3).map { _ in rng.normal() } }
        let evaluationScores = (0..<k).map { _ in (0..<3).map { _ in rng.normal() } }
        func softmax(_ z: [Float]) -> [Float] { let m = z.max()!; let e = z.map { expf($0 - m) }; let s = e.reduce(0, +); return e.map { $0 / s } }
        var actions: [Int32] = [], rewards: [Float] = [], propensities: [Float] = []
        var evaluation: [Float] = [], estimates: [Float] = [], truth = 0.0
        for _ in 0..<rounds {
            let x = (0..<3).map { _ in rng.normal() }
            func score(_ w: [Float]) -> Float { zip(w, x).reduce(0) { $0 + $1.0 * $1.1 } }
            let click = theta.map { 1 / (1 + expf(-(score($0) - 1))) }
            let behaviour = softmax(behaviourScores.map(score)), target = softmax(evaluationScores.map(score))
            let a = rng.categorical(behaviour)
            actions.append(Int32(a))
            rewards.append(rng.uniform() < click[a] ? 1 : 0)
            propensities.append(behaviour[a] * propensityScale)
            evaluation += target
            estimates += click.map(rewardModel)
            truth += zip(target, click).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        return (OffPolicyData(actions: actions, rewards: rewards, propensities: propensities,
                              evaluationProbabilities: Tensor(shape: Shape(rounds, k), scalars: evaluation),
                              rewardEstimates: Tensor(shape: Shape(rounds, k), scalars: estimates)), truth / Double(rounds))
    }

    /// IPW and DR are unbiased: the truth lies in their intervals, DR's even with a wrong reward
    /// model (a constant), and DR's interval is the narrower with the right one.
    @Test func ipwAndDoublyRobustCoverTheTruth() {
        let (data, truth) = Self.synthetic()
        let ipw = OffPolicyEstimator.ipw.estimateWithInterval(data, resamples: 200)
        let dr = OffPolicyEstimator.dr.estimateWithInterval(data, resamples: 200)
        #expect(ipw.low <= truth && truth <= ipw.high, "IPW \(ipw), truth \(truth)")
        #expect(dr.low <= truth && truth <= dr.high, "DR \(dr), truth \(truth)")
        #expect(dr.high - dr.low < ipw.high - ipw.low)
        let (wrongModel, _) = Self.synthetic(rewardModel: { _ in 0.5 })
        let robust = OffPolicyEstimator.dr.estimateWithInterval(wrongModel, resamples: 200)
        #expect(robust.low <= truth && truth <= robust.high, "DR with a constant model \(robust), truth \(truth)")
        let biased = OffPolicyEstimator.dm.estimate(wrongModel, over: Array(0..<wrongModel.rounds))
        #expect(abs(biased - truth) > 0.1)
    }

    @Test func theDirectMethodIsExactWithTheTrueRewardModel() {
        let (data, truth) = Self.synthetic()
        #expect(abs(OffPolicyEstimator.dm.estimate(data, over: Array(0..<data.rounds)) - truth) < 1e-6)
    }

    /// Rescaling every propensity by the same factor leaves the self-normalised estimators
    /// unchanged (and moves IPW by the inverse factor).
    @Test func selfNormalisedEstimatorsIgnoreAPropensityScale() {
        let (data, _) = Self.synthetic(rounds: 2_000), (scaled, _) = Self.synthetic(rounds: 2_000, propensityScale: 0.5)
        let all = Array(0..<data.rounds)
        for estimator in [OffPolicyEstimator.snipw, .sndr] {
            #expect(abs(estimator.estimate(data, over: all) - estimator.estimate(scaled, over: all)) < 1e-9)
        }
        #expect(abs(OffPolicyEstimator.ipw.estimate(scaled, over: all) - 2 * OffPolicyEstimator.ipw.estimate(data, over: all)) < 1e-9)
    }

    /// Switch-DR is DR with an infinite threshold and the direct method with a zero one.
    @Test func switchDoublyRobustSpansDirectAndDoublyRobust() {
        let (data, _) = Self.synthetic(rounds: 2_000, rewardModel: { $0 * 0.8 })
        let all = Array(0..<data.rounds)
        #expect(abs(OffPolicyEstimator.switchDR.estimate(data, over: all, switchThreshold: .infinity)
                    - OffPolicyEstimator.dr.estimate(data, over: all)) < 1e-12)
        #expect(abs(OffPolicyEstimator.switchDR.estimate(data, over: all, switchThreshold: 0)
                    - OffPolicyEstimator.dm.estimate(data, over: all)) < 1e-12)
    }
}
