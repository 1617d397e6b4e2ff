import DRLAgents
import DRLTensor
import Testing

@Suite struct SACTests {
    /// SAC (64-64 networks for speed) swings Pendulum up: a deterministic evaluation return of at
    /// least −200 within 30k environment steps, for two seeds.
    @Test(arguments: [UInt64(0), 1])
    func sacSolvesPendulum(seed: UInt64) throws {
        var configuration = SACConfiguration()
        configuration.hiddenSizes = [64, 64]
        let agent = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: configuration, seed: seed)
        let records = try agent.train(on: Pendulum(seed: seed), steps: 30_000, seed: seed, randomSteps: 100, evaluationEnvironment: Pendulum(),
                                      evaluationInterval: 2_000, evaluationEpisodes: 5, stopAtReturn: -200)
        #expect((records.last?.meanReturn ?? -.infinity) >= -200, "evaluations: \(records.map { ($0.step, $0.meanReturn) })")
    }

    @Test func actionsStayInsideTheBoxAndDeterministicActionsAreRepeatable() {
        let agent = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], seed: 3)
        let observation = Tensor(shape: Shape(3), scalars: [0.5, -0.5, 1])
        let first = agent.act(observation, mode: .greedy).values.clone()
        #expect(agent.act(observation, mode: .greedy).values == first)
        for _ in 0..<200 {
            let a = agent.act(observation, mode: .explore).values[flat: 0]
            #expect(a >= -2 && a <= 2)
        }
    }

    @Test func targetCriticsTrackTheCriticsByPolyakAveraging() throws {
        var configuration = SACConfiguration()
        configuration.hiddenSizes = [16]
        configuration.batchSize = 8
        configuration.learningStarts = 1_000_000
        let agent = SACAgent(observationDimension: 3, actionLow: [-1], actionHigh: [1], configuration: configuration, seed: 4)
        #expect(agent.targetStore.values == agent.criticStore.values)
        var rng = RandomGenerator(seed: 5)
        for _ in 0..<16 {
            try agent.observe(observation: Tensor.uniform(Shape(3), -1, 1, using: &rng), action: .continuous(Tensor.uniform(Shape(1), -1, 1, using: &rng)),
                              reward: rng.uniform(), nextObservation: Tensor.uniform(Shape(3), -1, 1, using: &rng), terminated: false,
                              truncated: false)
        }
        let before = agent.targetStore.values.clone()
        try agent.trainStep()
        for i in 0..<agent.targetStore.count {
            let expected = 0.995 * before[flat: i] + 0.005 * agent.criticStore.values[flat: i]
            #expect(abs(agent.targetStore.values[flat: i] - expected) < 1e-6)
        }
        #expect(agent.criticStore.values != before)
    }
}
