import DRLAgents
import DRLTensor
import Foundation
import Testing

@Suite struct VTraceTests {
    /// The targets are V-trace's definition, vₛ = V(xₛ) + Σₜ γ^(t−s) (cₛ⋯cₜ₋₁) δₜ with
    /// δₜ = ρₜ(rₜ + γV(xₜ₊₁) − V(xₜ)) summed to the episode's end, computed here term by term, on
    /// random episodes with ratios on both sides of the truncation levels; and on-policy (every
    /// ratio 1) they are the discounted returns whatever the values.
    @Test(arguments: [UInt64(1), 2, 3])
    func targetsFollowTheDefinition(seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        let n = 40, gamma: Float = 0.9, rhoBar: Float = 1, cBar: Float = 0.8
        let rewards = (0..<n).map { _ in rng.uniform(-1, 2) }, values = (0..<n).map { _ in rng.uniform(-3, 3) }
        let ratios = (0..<n).map { _ in rng.uniform(0, 2.5) }
        var ends = (0..<n).map { _ in rng.uniform() < 0.15 }
        ends[n - 1] = true
        func value(_ i: Int) -> Float { ends[i] ? 0 : values[i + 1] }  // V(xᵢ₊₁), zero after an episode's end
        var targets = [Float](repeating: 0, count: n), advantages = targets
        A2CAgent.vTraceTargets(rewards: rewards, values: values, ratios: ratios, episodeEnds: ends, gamma: gamma, rhoBar: rhoBar, cBar: cBar,
                               targets: &targets, advantages: &advantages)
        var reference = [Float](repeating: 0, count: n)
        for s in 0..<n {
            var sum: Float = 0, weight: Float = 1, t = s
            while true {
                sum += weight * min(rhoBar, ratios[t]) * (rewards[t] + gamma * value(t) - values[t])
                if ends[t] { break }
                weight *= gamma * min(cBar, ratios[t])
                t += 1
            }
            reference[s] = values[s] + sum
        }
        for s in 0..<n {
            #expect(abs(targets[s] - reference[s]) < 1e-4 * max(1, abs(reference[s])), "step \(s): \(targets[s]) against \(reference[s])")
            let next: Float = ends[s] ? 0 : reference[s + 1]
            #expect(abs(advantages[s] - min(rhoBar, ratios[s]) * (rewards[s] + gamma * next - values[s])) < 1e-4 * max(1, abs(advantages[s])))
        }
        A2CAgent.vTraceTargets(rewards: rewards, values: values, ratios: [Float](repeating: 1, count: n), episodeEnds: ends, gamma: gamma,
                               rhoBar: rhoBar, cBar: 1, targets: &targets, advantages: &advantages)
        var discounted: Float = 0
        for s in stride(from: n - 1, through: 0, by: -1) {
            discounted = rewards[s] + (ends[s] ? 0 : gamma * discounted)
            #expect(abs(targets[s] - discounted) < 1e-4 * max(1, abs(discounted)), "step \(s): \(targets[s]) against the return \(discounted)")
        }
    }

    /// From logs of a behaviour policy that mostly gives the wrong difficulty and the wrong content
    /// type (the tutoring task of `A2CTests`, each step its own episode), the two-head actor learns
    /// the right choice of both heads for every level, though the logs show it rarely (in 2% of the
    /// steps for the hardest level's), and moves away from the behaviour.
    @Test func fromSkewedLogsTheActorLearnsTheBestActions() throws {
        let task = TutoringTask()
        let steps = 6000
        var observation = Tensor(zeros: Shape(3)), observations = Tensor(zeros: Shape(steps, 3))
        var difficulties: [Int32] = [], types: [Int32] = [], rewards: [Float] = [], probabilities: [Float] = []
        let difficultyProbabilities: [Float] = [0.7, 0.2, 0.1], typeProbabilities: [Float] = [0.2, 0.8]
        var rng = RandomGenerator(seed: 5)
        func draw(_ p: [Float]) -> Int { let u = rng.uniform(); var total: Float = 0; for (i, q) in p.enumerated() { total += q; if u < total { return i } }; return p.count - 1 }
        task.reset(seed: 5, observation: &observation)
        for t in 0..<steps {
            for i in 0..<3 { observations[t, i] = observation[flat: i] }
            let (d, k) = (draw(difficultyProbabilities), draw(typeProbabilities))
            difficulties.append(Int32(d))
            types.append(Int32(k))
            probabilities.append(difficultyProbabilities[d] * typeProbabilities[k])
            rewards.append(task.step(.multiDiscrete([Int32(d), Int32(k)]), observation: &observation).reward)
        }
        var configuration = A2CConfiguration()
        configuration.entropyCoefficient = 0.01
        let agent = A2CAgent(observationDimension: 3, choices: [3, 2], environments: 1, configuration: configuration, seed: 2)
        var settings = A2CAgent.VTraceSettings()
        settings.gradientSteps = 2000
        let episodes = LoggedEpisodes(observations: observations, actions: [difficulties, types], rewards: rewards,
                                      behaviourProbabilities: probabilities, episodeEnds: [Bool](repeating: true, count: steps))
        let summary = try agent.trainOffPolicy(on: episodes, settings: settings, seed: 0)
        for level in 0..<3 {
            for i in 0..<3 { observation[flat: i] = i == level ? 1 : 0 }
            guard case .multiDiscrete(let choice) = agent.act(observation, mode: .greedy) else { Issue.record("not a two-choice action"); continue }
            #expect(choice == [Int32(level), level == 0 ? 1 : 0], "level \(level): \(agent.policy.probabilities(head: 0).scalars) \(agent.policy.probabilities(head: 1).scalars) V \(agent.valueNetwork.forward(observation.reshaped(Shape(1, 3)))[0, 0])")
        }
        // The policy moved away from the behaviour's.
        #expect(summary.divergenceAfter > summary.divergenceBefore + 0.5, "KL(μ‖π) \(summary.divergenceBefore) → \(summary.divergenceAfter)")
    }

    /// The anchor (`anchorWeight` β, KL(π₀‖π) in the actor's loss) bounds how far the policy moves
    /// from where it started without stopping it learning: on logs of a behaviour that mostly gives
    /// the easiest difficulty, β = 1 (about the advantages' scale here) leaves the policy within a
    /// quarter of the divergence from its start that training without it reaches, and still raises
    /// the probability of every level's best difficulty. The divergence the summary reports is
    /// KL(π₀‖π) over the logged observations, computed here from the policy's probabilities before
    /// and after.
    @Test func theAnchorBoundsTheMoveFromTheStart() throws {
        let task = TutoringTask()
        let steps = 3000
        var observation = Tensor(zeros: Shape(3)), observations = Tensor(zeros: Shape(steps, 3))
        var difficulties: [Int32] = [], types: [Int32] = [], rewards: [Float] = [], probabilities: [Float] = []
        var rng = RandomGenerator(seed: 7)
        task.reset(seed: 7, observation: &observation)
        for t in 0..<steps {
            for i in 0..<3 { observations[t, i] = observation[flat: i] }
            let (d, k) = (rng.uniform() < 0.7 ? 0 : Int32(1 + rng.nextIndex(below: 2)), Int32(rng.nextIndex(below: 2)))
            difficulties.append(d)
            types.append(k)
            probabilities.append((d == 0 ? 0.7 : 0.15) * 0.5)
            rewards.append(task.step(.multiDiscrete([d, k]), observation: &observation).reward)
        }
        let episodes = LoggedEpisodes(observations: observations, actions: [difficulties, types], rewards: rewards,
                                      behaviourProbabilities: probabilities, episodeEnds: [Bool](repeating: true, count: steps))
        func headProbabilities(_ agent: A2CAgent) -> [[Float]] {
            agent.policy.forward(observations)
            return [agent.policy.probabilities(head: 0).scalars, agent.policy.probabilities(head: 1).scalars]
        }
        func divergence(from start: [[Float]], to end: [[Float]]) -> Double {
            var total = 0.0
            for h in 0..<2 { for (p, q) in zip(start[h], end[h]) where p > 0 { total += Double(p) * (log(Double(p)) - log(Double(q))) } }
            return total / Double(steps)
        }
        var moved: [Double] = []
        for beta: Float in [0, 1] {
            var configuration = A2CConfiguration()
            configuration.entropyCoefficient = 0.01
            let agent = A2CAgent(observationDimension: 3, choices: [3, 2], environments: 1, configuration: configuration, seed: 3)
            let start = headProbabilities(agent)
            var settings = A2CAgent.VTraceSettings()
            (settings.gradientSteps, settings.anchorWeight) = (600, beta)
            let summary = try agent.trainOffPolicy(on: episodes, settings: settings, seed: 0)
            let end = headProbabilities(agent)
            let reference = divergence(from: start, to: end)
            #expect(abs(summary.divergenceFromStart - reference) < 1e-3 * max(reference, 1e-3), "β \(beta): reported \(summary.divergenceFromStart), computed \(reference)")
            moved.append(reference)
            for level in 0..<3 {
                let row = (0..<steps).first { observations[$0, level] == 1 }!
                #expect(end[0][row * 3 + level] > start[0][row * 3 + level] + 0.05,
                        "β \(beta), level \(level): π(best difficulty) \(start[0][row * 3 + level]) → \(end[0][row * 3 + level])")
            }
        }
        #expect(moved[1] < moved[0] / 4, "KL(π₀‖π) without the anchor \(moved[0]), with β 1 \(moved[1])")
    }

    /// During the critic's warm-up the actor does not move, even with the optimiser's momentum
    /// from earlier training; the critic does, and the actor's parameters are trainable again after.
    @Test func theWarmUpTrainsTheCriticAlone() throws {
        let agent = A2CAgent(observationDimension: 3, choices: [3, 2], environments: 1, seed: 4)
        var observations = Tensor(zeros: Shape(64, 3))
        for r in 0..<64 { observations[r, r % 3] = 1 }
        let episodes = LoggedEpisodes(observations: observations, actions: [(0..<64).map { Int32($0 % 3) }, (0..<64).map { Int32($0 % 2) }],
                                      rewards: (0..<64).map { Float($0 % 5) }, behaviourProbabilities: [Float](repeating: 1.0 / 6, count: 64),
                                      episodeEnds: (0..<64).map { $0 % 4 == 3 })
        var settings = A2CAgent.VTraceSettings()
        settings.batchSize = 16
        _ = try agent.trainOffPolicy(on: episodes, settings: settings, seed: 1)  // the actor's moments are now non-zero
        let actor = agent.policy.namedParameters.map(\.parameter.value.scalars), critic = agent.valueNetwork.namedParameters.map(\.parameter.value.scalars)
        (settings.criticWarmUpSteps, settings.gradientSteps) = (30, 0)
        _ = try agent.trainOffPolicy(on: episodes, settings: settings, seed: 2)
        #expect(agent.policy.namedParameters.map(\.parameter.value.scalars) == actor)
        #expect(agent.valueNetwork.namedParameters.map(\.parameter.value.scalars) != critic)
        #expect(agent.policy.namedParameters.allSatisfy { !$0.parameter.isFrozen })
    }
}
