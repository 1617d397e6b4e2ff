import DRLAgents
import DRLNN
import DRLTensor
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct TopKReinforceTests {
    /// λ_K = K·(1 − π)^(K−1), checked against values by hand and against the derivative of the
    /// probability 1 − (1 − π)^K that an item appears among K draws.
    @Test func topKMultiplierMatchesItsFormula() {
        #expect(TopKReinforceAgent.topKMultiplier(probability: 0.37, slateSize: 1) == 1)
        #expect(abs(TopKReinforceAgent.topKMultiplier(probability: 0.2, slateSize: 5) - 2.048) < 1e-5)
        #expect(abs(TopKReinforceAgent.topKMultiplier(probability: 0.5, slateSize: 3) - 0.75) < 1e-6)
        #expect(TopKReinforceAgent.topKMultiplier(probability: 1, slateSize: 4) == 0)
        for k in [2, 4, 16] {
            for p in [Float(0.01), 0.1, 0.6] {
                let h: Float = 1e-3
                let appear = { (q: Float) in 1 - powf(1 - q, Float(k)) }
                let derivative = (appear(p + h) - appear(p - h)) / (2 * h)
                #expect(abs(TopKReinforceAgent.topKMultiplier(probability: p, slateSize: k) - derivative) < 2e-3 * Float(k))
            }
        }
    }

    /// Each sample's weight is min(π(a|s)/β(a|s), c)·λ_K·R with π and β as they were before the step.
    @Test func updateWeightsFollowTheCorrection() throws {
        var configuration = TopKReinforceConfiguration()
        configuration.hiddenSizes = [8]
        configuration.slateSize = 4
        configuration.weightCap = 2.5
        configuration.learningRate = 1e-2
        let agent = TopKReinforceAgent(stateDimension: 3, items: 6, configuration: configuration, seed: 1)
        var rng = RandomGenerator(seed: 2)
        let states = Tensor.uniform(Shape(5, 3), -1, 1, using: &rng)
        let actions: [Int32] = [0, 5, 2, 2, 3]
        let returns = Tensor(shape: Shape(5), scalars: [1, -0.5, 2, 0, 3])
        // A few steps first so that π and β are no longer uniform and some ratios exceed the cap.
        for _ in 0..<50 { try agent.update(states: states, actions: [1, 1, 1, 4, 4], returns: returns) }
        let (pi, beta) = agent.probabilities(states)
        let (piBefore, betaBefore) = (pi.clone(), beta.clone())
        try agent.update(states: states, actions: actions, returns: returns)
        var capped = 0
        for i in 0..<5 {
            let a = Int(actions[i])
            let ratio = piBefore[i, a] / betaBefore[i, a]
            if ratio > 2.5 { capped += 1 }
            let expected = min(ratio, 2.5) * 4 * powf(1 - piBefore[i, a], 3) * returns[flat: i]
            #expect(abs(agent.lastWeights[flat: i] - expected) <= 1e-5 * max(1, abs(expected)), "sample \(i)")
        }
        #expect(capped > 0 && capped < 5, "the samples should exercise both sides of the cap")
    }

    /// Logged bandit feedback from a skewed behaviour policy: in each of 4 contexts item 0 is
    /// logged 70% of the time and pays with probability 0.3, the context's best item is logged 5%
    /// of the time and pays 0.9. Trained on the logs as if on-policy, REINFORCE follows the logging
    /// policy to item 0; with the correction it finds the best item of every context.
    @Test func correctionRecoversTheBestItemsFromSkewedLogs() throws {
        let contexts = 4, items = 10, n = 4_096
        var rng = RandomGenerator(seed: 3)
        var states = Tensor(zeros: Shape(n, contexts))
        var actions = [Int32](repeating: 0, count: n)
        var returns = Tensor(zeros: Shape(n))
        func best(_ c: Int) -> Int { 1 + 2 * c }
        func payProbability(_ c: Int, _ a: Int) -> Float { a == best(c) ? 0.9 : a == 0 ? 0.3 : 0.1 }
        for i in 0..<n {
            let c = i % contexts
            states[i, c] = 1
            let u = rng.uniform()
            let a = u < 0.7 ? 0 : u < 0.75 ? best(c) : 1 + rng.nextIndex(below: items - 1)
            actions[i] = Int32(a)
            returns[flat: i] = rng.uniform() < payProbability(c, a) ? 1 : 0
        }
        var greedyItems: [Bool: [Int32]] = [:]
        for corrected in [true, false] {
            var configuration = TopKReinforceConfiguration()
            configuration.hiddenSizes = [32]
            configuration.learningRate = 3e-3
            configuration.offPolicyCorrection = corrected
            let agent = TopKReinforceAgent(stateDimension: contexts, items: items, configuration: configuration, seed: 4)
            for _ in 0..<400 {
                let start = rng.nextIndex(below: n / 256) * 256
                try agent.update(states: states[rows: start..<(start + 256)], actions: Array(actions[start..<(start + 256)]),
                                 returns: returns[rows: start..<(start + 256)])
            }
            var slates = [Int32](repeating: 0, count: contexts)
            agent.recommend(states[rows: 0..<contexts], into: &slates)
            greedyItems[corrected] = slates
        }
        #expect(greedyItems[true] == (0..<contexts).map { Int32(best($0)) })
        #expect(greedyItems[false] == [0, 0, 0, 0])
    }
}
