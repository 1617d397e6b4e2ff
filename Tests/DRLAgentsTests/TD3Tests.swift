import DRLAgents
import DRLTensor
import Testing

@Suite struct TD3Tests {
    /// TD3 (64-64 networks for speed) swings Pendulum up: a deterministic evaluation return of at
    /// least −200 within 30k environment steps, for two seeds.
    @Test(arguments: [UInt64(0), 1])
    func td3SolvesPendulum(seed: UInt64) throws {
        var configuration = TD3Configuration()
        configuration.hiddenSizes = [64, 64]
        let agent = TD3Agent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: configuration, seed: seed)
        let records = try agent.train(on: Pendulum(seed: seed), steps: 30_000, seed: seed, randomSteps: 100, evaluationEnvironment: Pendulum(),
                                      evaluationInterval: 2_000, evaluationEpisodes: 5, stopAtReturn: -200)
        #expect((records.last?.meanReturn ?? -.infinity) >= -200, "evaluations: \(records.map { ($0.step, $0.meanReturn) })")
    }

    @Test func actorAndTargetsUpdateOnlyEveryPolicyDelaySteps() throws {
        var configuration = TD3Configuration()
        configuration.hiddenSizes = [16]
        configuration.batchSize = 8
        configuration.learningStarts = 1_000_000
        configuration.policyDelay = 2
        let agent = TD3Agent(observationDimension: 3, actionLow: [-1], actionHigh: [1], configuration: configuration, seed: 2)
        var rng = RandomGenerator(seed: 3)
        for _ in 0..<16 {
            try agent.observe(observation: Tensor.uniform(Shape(3), -1, 1, using: &rng), action: .continuous(Tensor.uniform(Shape(1), -1, 1, using: &rng)),
                              reward: rng.uniform(), nextObservation: Tensor.uniform(Shape(3), -1, 1, using: &rng), terminated: false,
                              truncated: false)
        }
        let actor0 = agent.actorStore.values.clone(), targets0 = agent.targetCriticStore.values.clone()
        try agent.trainStep()  // critic only
        #expect(agent.actorStore.values == actor0 && agent.targetCriticStore.values == targets0)
        #expect(agent.criticStore.values != targets0)
        try agent.trainStep()  // critic, actor and targets
        #expect(agent.actorStore.values != actor0)
        for i in 0..<agent.targetCriticStore.count {
            let expected = 0.995 * targets0[flat: i] + 0.005 * agent.criticStore.values[flat: i]
            #expect(abs(agent.targetCriticStore.values[flat: i] - expected) < 1e-6)
        }
    }
}
