import DRLAgents
import DRLNN
import DRLTensor
import Testing

@Suite struct DQNTests {
    func randomObservation(_ rng: inout RandomGenerator) -> Tensor { Tensor.uniform(Shape(1, 4), -0.1, 0.1, using: &rng) }

    /// Feeds `steps` random transitions.
    func feed(_ agent: DQNAgent, steps: Int, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed)
        for i in 0..<steps {
            let o = randomObservation(&rng), n = randomObservation(&rng)
            try agent.observe(observation: o, action: .discrete(i % 2), reward: 1, nextObservation: n,
                              terminated: i % 17 == 16, truncated: false)
        }
    }

    @Test func hardTargetUpdatesCopyExactlyAtTheInterval() throws {
        var configuration = DQNConfiguration()
        configuration.learningStarts = 10
        configuration.batchSize = 8
        configuration.trainFrequency = 1
        configuration.gradientSteps = 1
        configuration.targetUpdateInterval = 5
        let agent = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 1)
        #expect(agent.targetStore.values == agent.onlineStore.values)
        try feed(agent, steps: 13, seed: 2)  // 4 gradient steps: the target still holds the initial weights
        #expect(agent.gradientSteps == 4 && agent.targetStore.values != agent.onlineStore.values)
        try feed(agent, steps: 1, seed: 3)   // the 5th gradient step copies
        #expect(agent.targetStore.values == agent.onlineStore.values)
    }

    @Test func polyakTargetUpdatesFollowTheFormula() throws {
        var configuration = DQNConfiguration()
        configuration.learningStarts = 1
        configuration.batchSize = 4
        configuration.polyakTau = 0.1
        let agent = DQNAgent(observationDimension: 4, actions: 3, configuration: configuration, seed: 4)
        try feed(agent, steps: 5, seed: 5)
        let targetBefore = agent.targetStore.values.clone()
        try agent.trainStep()
        for i in 0..<agent.targetStore.count {
            let expected = 0.9 * targetBefore[flat: i] + 0.1 * agent.onlineStore.values[flat: i]
            #expect(abs(agent.targetStore.values[flat: i] - expected) < 1e-6)
        }
    }

    /// Double + dueling DQN with the default settings solves CartPole (greedy return ≥ 475 over 10
    /// episodes) within the 100k environment steps its schedules span.
    @Test(arguments: [UInt64(1), 2])
    func doubleDuelingDQNSolvesCartPole(seed: UInt64) throws {
        var configuration = DQNConfiguration()
        configuration.totalSteps = 100_000
        let agent = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: seed)
        let records = try agent.train(on: CartPole(seed: seed), steps: 100_000, seed: seed, evaluationEnvironment: CartPole(),
                                      evaluationInterval: 5_000, stopAtReturn: 475)
        #expect((records.last?.meanReturn ?? 0) >= 475, "evaluations: \(records.map { ($0.step, $0.meanReturn) })")
    }

    @Test func epsilonDecaysLinearlyThenStays() {
        var configuration = DQNConfiguration()
        configuration.totalSteps = 1000
        configuration.explorationFraction = 0.1
        #expect(configuration.epsilon(at: 0) == 1)
        #expect(abs(configuration.epsilon(at: 50) - 0.52) < 1e-6)
        #expect(configuration.epsilon(at: 100) == 0.04 && configuration.epsilon(at: 900) == 0.04)
    }

    @Test func duelingHeadGradientsAndMeanZeroAdvantages() {
        var rng = RandomGenerator(seed: 6)
        let head = DuelingHead(features: 5, actions: 3, using: &rng)
        let x = Tensor.uniform(Shape(4, 5), -1, 1, using: &rng)
        let q = head.forward(x)
        // Q − V has mean zero over actions.
        let v = head.value.forward(x)
        for r in 0..<4 { #expect(abs((0..<3).map { q[r, $0] - v[flat: r] }.reduce(0, +)) < 1e-5) }
        var probe = RandomGenerator(seed: 7)
        let dy = Tensor.uniform(Shape(4, 3), -1, 1, using: &probe)
        for (_, p) in head.namedParameters { var g = p.gradient; g.fill(with: 0) }
        _ = head.forward(x)
        let dx = head.backward(dy).clone()
        let h: Float = 1e-2
        for i in 0..<x.count {
            var plus = x.clone(), minus = x.clone()
            plus[flat: i] += h
            minus[flat: i] -= h
            let lp = zip(head.forward(plus).scalars, dy.scalars).map { Double($0 * $1) }.reduce(0, +)
            let lm = zip(head.forward(minus).scalars, dy.scalars).map { Double($0 * $1) }.reduce(0, +)
            #expect(abs(Double(dx[flat: i]) - (lp - lm) / 0.02) < 2e-3)
        }
    }

    @Test func greedyEvaluationIsReproducible() {
        let always = { (_: Tensor) -> Action in .discrete(1) }
        let a = evaluate(CartPole(), episodes: 3, seed: 9, policy: always)
        #expect(a == evaluate(CartPole(), episodes: 3, seed: 9, policy: always))
        #expect(a > 5 && a < 20)  // pushing one way topples the pole within a few dozen steps
    }
}
