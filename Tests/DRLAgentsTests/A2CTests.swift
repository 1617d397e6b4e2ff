import DRLAgents
import DRLNN
import DRLTensor
import Testing

/// A one-step tutoring task for the two-head actor: the observation is a student's level (one-hot
/// of three); the action is a difficulty (three) and a content type (two). The reward is 1 for the
/// difficulty that matches the level plus 0.5 for video (type 1) when the level is low and for text
/// (type 0) otherwise; both heads must read the state.
final class TutoringTask: Environment {
    let observationSpace = Space.box(low: [0, 0, 0], high: [1, 1, 1])
    let actionSpace = Space.multiDiscrete([3, 2])
    private var rng = RandomGenerator(seed: 0)
    private var level = 0

    func reset(seed: UInt64?, observation: inout Tensor) {
        if let seed { rng = RandomGenerator(seed: seed) }
        level = rng.nextIndex(below: 3)
        for i in 0..<3 { observation[flat: i] = i == level ? 1 : 0 }
    }

    func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .multiDiscrete(let choice) = action else { preconditionFailure("TutoringTask takes two choices") }
        let preferredType: Int32 = level == 0 ? 1 : 0
        let reward: Float = (choice[0] == Int32(level) ? 1 : 0) + (choice[1] == preferredType ? 0.5 : 0)
        reset(seed: nil, observation: &observation)
        return StepResult(reward: reward, terminated: true, truncated: false)
    }
}

@Suite struct A2CTests {
    /// A2C with the default settings over 8 CartPole copies reaches a greedy return of 475 (10
    /// episodes) within 300k environment steps (about a second in release mode).
    @Test(arguments: [UInt64(0), 1])
    func a2cSolvesCartPole(seed: UInt64) throws {
        let agent = A2CAgent(observationDimension: 4, choices: [2], environments: 8, seed: seed)
        let vector = VectorEnvironment((0..<8).map { _ in CartPole() })
        let records = try agent.train(on: vector, steps: 300_000, seed: seed, evaluationEnvironment: CartPole(),
                                      evaluationInterval: 10_000, stopAtReturn: 475)
        #expect((records.last?.meanReturn ?? 0) >= 475, "evaluations: \(records.map { ($0.step, $0.meanReturn) })")
    }

    /// Both heads of the two-path actor learn their part of the tutoring task: the greedy policy
    /// picks the matching difficulty and the preferred content type for every level.
    @Test func twoHeadActorLearnsBothChoices() throws {
        var configuration = A2CConfiguration()
        configuration.rolloutSteps = 1
        configuration.entropyCoefficient = 0.01
        let agent = A2CAgent(observationDimension: 3, choices: [3, 2], environments: 16, configuration: configuration, seed: 3)
        let vector = VectorEnvironment((0..<16).map { _ in TutoringTask() })
        let records = try agent.train(on: vector, steps: 40_000, seed: 3, evaluationEnvironment: TutoringTask(),
                                      evaluationInterval: 4_000, evaluationEpisodes: 30, stopAtReturn: 1.5)
        #expect((records.last?.meanReturn ?? 0) == 1.5, "evaluations: \(records.map { ($0.step, $0.meanReturn) })")
        var observation = Tensor(zeros: Shape(3))
        for level in 0..<3 {
            for i in 0..<3 { observation[flat: i] = i == level ? 1 : 0 }
            guard case .multiDiscrete(let choice) = agent.act(observation, mode: .greedy) else { Issue.record("not a two-choice action"); continue }
            #expect(choice == [Int32(level), level == 0 ? 1 : 0])
        }
    }

    /// The shared trunk receives the sum of both heads' gradients: the analytic gradient of
    /// Σₕ weighted cross-entropy through `CategoricalPolicy.backward` matches central differences.
    @Test func twoHeadPolicyGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 11)
        let policy = CategoricalPolicy(observationDimension: 5, hiddenSizes: [7], choices: [3, 4], headGain: 1, using: &rng)
        let store = ParameterStore(policy.namedParameters)
        let x = Tensor.uniform(Shape(6, 5), -1, 1, using: &rng)
        let weights = Tensor.uniform(Shape(6), -1, 1, using: &rng)
        let targets: [[Int32]] = [[0, 2, 1, 1, 0, 2], [3, 0, 1, 2, 2, 3]]
        let losses = [SoftmaxCrossEntropyLoss(), SoftmaxCrossEntropyLoss()]
        func loss() -> Float {
            policy.forward(x)
            return (0..<2).map { losses[$0](policy.logits[$0], targets: targets[$0], weights: weights) }.reduce(0, +)
        }
        store.zeroGradients()
        _ = loss()
        policy.backward([losses[0].gradient.clone(), losses[1].gradient.clone()])
        let analytic = store.gradients.clone()
        var values = store.values
        let h: Float = 1e-2
        for i in stride(from: 0, to: store.count, by: 3) {
            let saved = values[flat: i]
            values[flat: i] = saved + h
            let plus = loss()
            values[flat: i] = saved - h
            let minus = loss()
            values[flat: i] = saved
            let numeric = (plus - minus) / (2 * h)
            #expect(abs(numeric - analytic[flat: i]) < 2e-3 + 2e-2 * abs(numeric), "parameter element \(i)")
        }
    }

    /// An agent restored from a checkpoint continues training with exactly the numbers of the one
    /// that saved it.
    @Test func restoredAgentContinuesWithIdenticalNumbers() throws {
        let path = AgentCheckpointTests.temporaryPath()
        func makeAgent() -> A2CAgent { A2CAgent(observationDimension: 4, choices: [2], environments: 4, seed: 8) }
        func copies() -> VectorEnvironment { VectorEnvironment((0..<4).map { _ in CartPole() }) }
        let first = makeAgent()
        try first.train(on: copies(), steps: 2_000, seed: 1, evaluationEnvironment: CartPole(), evaluationInterval: 2_000, evaluationEpisodes: 1)
        try first.save(to: path)
        let second = makeAgent()
        try second.load(from: path)
        #expect(second.store.values == first.store.values && second.environmentSteps == first.environmentSteps)
        for agent in [first, second] {
            try agent.train(on: copies(), steps: 1_000, seed: 2, evaluationEnvironment: CartPole(), evaluationInterval: 1_000, evaluationEpisodes: 1)
        }
        #expect(second.store.values == first.store.values && second.updates == first.updates)
        #expect(second.optimizer.state[0].tensor == first.optimizer.state[0].tensor)
    }
}
