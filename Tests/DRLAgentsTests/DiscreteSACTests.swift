@testable import DRLAgents
import DRLTensor
import Testing

@Suite struct DiscreteSACTests {
    /// Discrete SAC (64-64 networks) balances CartPole: a greedy evaluation return of at least 400
    /// within 60k environment steps, for two seeds.
    @Test(arguments: [UInt64(0), 1])
    func discreteSACBalancesCartPole(seed: UInt64) throws {
        let agent = DiscreteSACAgent(observationDimension: 4, actions: 2, seed: seed)
        let records = try agent.train(on: CartPole(seed: seed), steps: 60_000, seed: seed, evaluationEnvironment: CartPole(),
                                      evaluationInterval: 5_000, stopAtReturn: 400)
        #expect((records.last?.meanReturn ?? 0) >= 400, "evaluations: \(records.map { ($0.step, $0.meanReturn) })")
    }

    /// The policy loss's logit gradient (an expectation over actions, not a sample) matches central
    /// differences of the loss as a function of the logits.
    @Test func policyLossGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 21)
        var logits = Tensor.uniform(Shape(4, 3), -2, 2, using: &rng)
        let q = Tensor.uniform(Shape(4, 3), -5, 5, using: &rng)
        var gradient = Tensor(zeros: Shape(4, 3)), scratch = Tensor(zeros: Shape(4, 3))
        func loss(_ z: Tensor, into g: inout Tensor) -> Float {
            var p = Tensor(zeros: z.shape), logp = Tensor(zeros: z.shape)
            softmax(z, into: &p)
            logSoftmax(z, into: &logp)
            return DiscreteSACAgent.policyLoss(probabilities: p, logProbabilities: logp, q: q, temperature: 0.7, logitGradient: &g).loss
        }
        _ = loss(logits, into: &gradient)
        let h: Float = 1e-2
        for i in 0..<logits.count {
            let saved = logits[flat: i]
            logits[flat: i] = saved + h
            let plus = loss(logits, into: &scratch)
            logits[flat: i] = saved - h
            let minus = loss(logits, into: &scratch)
            logits[flat: i] = saved
            #expect(abs((plus - minus) / (2 * h) - gradient[flat: i]) < 2e-3, "logit \(i)")
        }
    }

    /// An entropy above the target lowers the temperature (Adam's first step moves log α by
    /// exactly the learning rate), and the targets follow the critics by Polyak averaging.
    @Test func temperatureFallsWhenEntropyExceedsTheTargetAndTargetsTrackTheCritics() throws {
        var configuration = DiscreteSACConfiguration()
        configuration.hiddenSizes = [16]
        configuration.batchSize = 8
        configuration.learningStarts = 8
        configuration.targetEntropyRatio = 0.05  // the near-uniform initial policy has far more entropy
        let agent = DiscreteSACAgent(observationDimension: 3, actions: 4, configuration: configuration, seed: 2)
        let startLog = agent.logTemperature.value[flat: 0]
        var rng = RandomGenerator(seed: 5)
        for i in 0..<40 {
            let targetBefore = agent.targetStore.values.clone()
            try agent.observe(observation: Tensor.uniform(Shape(3), -1, 1, using: &rng), action: .discrete(i % 4), reward: rng.uniform(),
                              nextObservation: Tensor.uniform(Shape(3), -1, 1, using: &rng), terminated: i % 9 == 8, truncated: false)
            guard agent.gradientSteps > 0 else { continue }
            if agent.gradientSteps == 1 {
                #expect(abs(agent.logTemperature.value[flat: 0] - (startLog - configuration.learningRate)) < 1e-6)
            }
            for j in stride(from: 0, to: agent.targetStore.count, by: 7) {
                let expected = 0.99 * targetBefore[flat: j] + 0.01 * agent.criticStore.values[flat: j]
                #expect(abs(agent.targetStore.values[flat: j] - expected) < 1e-6)
            }
        }
        #expect(agent.gradientSteps == 33)
        #expect(agent.logTemperature.value[flat: 0] < startLog - 30 * configuration.learningRate)
    }
}

extension DiscreteSACTests {
    /// An agent restored from a checkpoint (networks, temperature, optimizers, replay, generator)
    /// continues training with exactly the numbers of the one that saved it.
    @Test func restoredAgentContinuesWithIdenticalNumbers() throws {
        let path = AgentCheckpointTests.temporaryPath()
        var configuration = DiscreteSACConfiguration()
        configuration.hiddenSizes = [16]
        configuration.learningStarts = 100
        func makeAgent() -> DiscreteSACAgent { DiscreteSACAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 9) }
        let first = makeAgent()
        try first.train(on: CartPole(), steps: 300, seed: 1, evaluationEnvironment: CartPole(), evaluationInterval: 300, evaluationEpisodes: 1)
        try first.save(to: path)
        let second = makeAgent()
        try second.load(from: path)
        for agent in [first, second] {
            try agent.train(on: CartPole(), steps: 200, seed: 2, evaluationEnvironment: CartPole(), evaluationInterval: 200, evaluationEpisodes: 1)
        }
        #expect(second.actorStore.values == first.actorStore.values && second.criticStore.values == first.criticStore.values)
        #expect(second.temperature == first.temperature && second.gradientSteps == first.gradientSteps)
    }
}
