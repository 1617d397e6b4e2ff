import DRLAgents
import DRLTensor
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct CQLTests {
    /// Offline learning from the logs of a poor deterministic policy (push towards the side the pole
    /// leans: a return of about 43 on CartPole). Every true Q-value is at most 1/(1 − γ) = 100.
    /// Plain offline double DQN bootstraps from actions the logs never show; its Q-values pass 100
    /// and keep growing and its policy falls over at once. CQL's stay below 100 and its greedy
    /// policy beats the behaviour policy.
    @Test func cqlBeatsTheBehaviourPolicyWithBoundedQWhereOfflineDQNDiverges() throws {
        let (dataset, behaviourReturn) = logTransitions(of: { o in o[flat: 2] > 0 ? 1 : 0 }, in: CartPole(),
                                                        transitions: 20_000, gamma: 0.99, seed: 2)
        var results: [Float: (finalReturn: Float, largestMeanQ: Float, finalMeanQ: Float)] = [:]
        for alpha in [Float(0), 0.5] {
            var configuration = CQLConfiguration()
            configuration.conservativeWeight = alpha
            configuration.hiddenSizes = [64, 64]
            let agent = CQLAgent(dataset: dataset, actions: 2, configuration: configuration, seed: 3)
            var largestMeanQ: Float = 0
            let records = try agent.train(steps: 16_000, evaluationEnvironment: CartPole(), evaluationInterval: 4_000) { _ in
                largestMeanQ = max(largestMeanQ, agent.lastStep!.meanQ)
            }
            results[alpha] = (records.last!.meanReturn, largestMeanQ, agent.lastStep!.meanQ)
        }
        let cql = results[0.5]!, dqn = results[0]!
        #expect(cql.finalReturn > 1.2 * behaviourReturn, "CQL \(cql.finalReturn) vs behaviour \(behaviourReturn)")
        #expect(cql.largestMeanQ < 100, "CQL's mean Q reached \(cql.largestMeanQ)")
        #expect(dqn.finalMeanQ > 100 && dqn.finalMeanQ > 3 * cql.finalMeanQ, "offline DQN's mean Q: \(dqn.finalMeanQ)")
        #expect(dqn.finalReturn < behaviourReturn, "offline DQN \(dqn.finalReturn) vs behaviour \(behaviourReturn)")
    }

    /// The conservative term is logsumexp Q(s, ·) − Q(s, a_logged) averaged over the batch (before
    /// the weight α): on a one-transition dataset, with a zero learning rate, it matches the formula
    /// on the network's Q-values.
    @Test func conservativeTermMatchesItsFormula() throws {
        let (dataset, _) = logTransitions(of: { _ in 1 }, in: CartPole(), transitions: 1, gamma: 0.99, seed: 6)
        var configuration = CQLConfiguration()
        configuration.hiddenSizes = [8]
        configuration.batchSize = 16
        configuration.learningRate = 0
        let agent = CQLAgent(dataset: dataset, actions: 2, configuration: configuration, seed: 5)
        try agent.trainStep()
        var observation = Tensor(zeros: Shape(4))
        CartPole().reset(seed: 6, observation: &observation)
        let q = agent.online.forward(observation.reshaped(Shape(1, 4)))
        let logSumExp = max(q[0, 0], q[0, 1]) + log1pf(expf(-abs(q[0, 0] - q[0, 1])))
        #expect(abs(agent.lastStep!.conservative - (logSumExp - q[0, 1])) < 1e-5)
        #expect(abs(agent.lastStep!.meanQ - q[0, 1]) < 1e-5)
    }
}
