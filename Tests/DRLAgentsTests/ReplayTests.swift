import DRLAgents
import DRLTensor
import Foundation
import Testing

func tensor(_ values: [Float]) -> Tensor { Tensor(shape: Shape(values.count), scalars: values) }

@Suite struct ReplayTests {
    @Test func ringBufferOverwritesTheOldestAndSamplesStoredTransitions() {
        let buffer = ReplayBuffer(capacity: 3, observationDimension: 2)
        for i in 0..<5 {
            let v = Float(i)
            buffer.add(observation: tensor([v, -v]), action: tensor([v]), reward: 10 * v, nextObservation: tensor([v + 1, 0]),
                       done: i == 4, discount: 0.99)
        }
        #expect(buffer.count == 3)
        let batch = TransitionBatch(size: 64, observationDimension: 2)
        var rng = RandomGenerator(seed: 1)
        buffer.sample(into: batch, using: &rng)
        var seen = Set<Int>()
        for j in 0..<64 {
            let v = batch.observations[j, 0]
            seen.insert(Int(v))
            #expect(batch.observations[j, 1] == -v && batch.actions[j, 0] == v && batch.rewards[flat: j] == 10 * v)
            #expect(batch.nextObservations[j, 0] == v + 1 && batch.discounts[flat: j] == 0.99)
            #expect(batch.dones[flat: j] == (v == 4 ? 1 : 0) && batch.weights[flat: j] == 1)
        }
        #expect(seen == [2, 3, 4])  // 0 and 1 were overwritten
    }

    @Test func sumTreeSamplingFrequenciesMatchPriorities() {
        var tree = SumTree(capacity: 5)
        let priorities: [Double] = [1, 0, 3, 0.5, 5.5]
        for (i, p) in priorities.enumerated() { tree.update(i, priority: p) }
        #expect(tree.total == 10)
        var rng = RandomGenerator(seed: 2)
        var counts = [Int](repeating: 0, count: 5)
        let n = 100_000
        for _ in 0..<n { counts[tree.find(prefix: Double(rng.uniform()) * tree.total)] += 1 }
        #expect(counts[1] == 0)
        for (i, p) in priorities.enumerated() {
            #expect(abs(Double(counts[i]) / Double(n) - p / 10) < 0.005, "index \(i): \(counts[i])")
        }
        // Exact boundaries: prefix sums 1, 4, 4.5 separate the leaves.
        #expect(tree.find(prefix: 0.999) == 0 && tree.find(prefix: 1.0) == 2 && tree.find(prefix: 3.999) == 2)
        #expect(tree.find(prefix: 4.0) == 3 && tree.find(prefix: 4.5) == 4 && tree.find(prefix: 10) == 4)
    }

    @Test func prioritizedSamplingFollowsPrioritiesWithImportanceWeights() {
        let replay = PrioritizedReplayBuffer(capacity: 4, observationDimension: 1, alpha: 1)
        for i in 0..<4 {
            replay.add(observation: tensor([Float(i)]), action: tensor([0]), reward: 0, nextObservation: tensor([0]),
                       done: false, discount: 1)
        }
        // Priorities (|δ| + ε)^α with α = 1: about 1, 2, 3, 4.
        replay.updatePriorities(indices: [0, 1, 2, 3], tdErrors: tensor([1, 2, 3, 4]))
        let batch = TransitionBatch(size: 1000, observationDimension: 1)
        var rng = RandomGenerator(seed: 3)
        replay.sample(into: batch, beta: 1, using: &rng)
        var counts = [0, 0, 0, 0]
        for j in 0..<1000 {
            let i = Int(batch.indices[j])
            counts[i] += 1
            #expect(batch.observations[j, 0] == Float(i))
            // w = (N·P(i))^−1 / max w = (1/(N·p_i/10)) / (1/(N·1/10)) = 1/p_i.
            #expect(abs(batch.weights[flat: j] - 1 / Float(i + 1)) < 1e-4)
        }
        for i in 0..<4 { #expect(abs(Double(counts[i]) / 1000 - Double(i + 1) / 10) < 0.02) }
    }

    @Test func nStepReturnsMatchHandComputedValues() {
        let gamma: Float = 0.9
        let accumulator = NStepAccumulator(steps: 3, gamma: gamma, observationDimension: 1)
        var emitted: [(obs: Float, ret: Float, next: Float, done: Bool, discount: Float)] = []
        let rewards: [Float] = [1, 2, 3, 4, 5]
        for (t, r) in rewards.enumerated() {
            accumulator.add(observation: tensor([Float(t)]), action: tensor([0]), reward: r, nextObservation: tensor([Float(t + 1)]),
                            terminated: t == 4, truncated: false) { o, _, ret, next, done, discount in
                emitted.append((o[flat: 0], ret, next[flat: 0], done, discount))
            }
        }
        // s0: 1 + .9·2 + .81·3 → s3; s1: 2 + .9·3 + .81·4 → s4; s2: 3 + .9·4 + .81·5 → s5 (terminal);
        // then the episode's end flushes s3: 4 + .9·5 → s5 and s4: 5 → s5.
        let expected: [(Float, Float, Float, Bool, Float)] = [
            (0, 1 + 0.9 * 2 + 0.81 * 3, 3, false, 0.729), (1, 2 + 0.9 * 3 + 0.81 * 4, 4, false, 0.729),
            (2, 3 + 0.9 * 4 + 0.81 * 5, 5, true, 0.729), (3, 4 + 0.9 * 5, 5, true, 0.81), (4, 5, 5, true, 0.9),
        ]
        #expect(emitted.count == expected.count)
        for (got, want) in zip(emitted, expected) {
            #expect(got.obs == want.0 && abs(got.ret - want.1) < 1e-5 && got.next == want.2 && got.done == want.3
                    && abs(got.discount - want.4) < 1e-6, "\(got) vs \(want)")
        }
    }

    @Test func gaeMatchesHandComputedValues() {
        let buffer = RolloutBuffer(steps: 3, environments: 2, observationDimension: 1)
        let rewards: [[Float]] = [[1, 0], [0, 1], [2, 1]], values: [[Float]] = [[0.5, 0.2], [0.4, 0.3], [0.6, 0.1]]
        let dones: [[Bool]] = [[false, false], [true, false], [false, false]]
        for t in 0..<3 {
            buffer.add(observations: Tensor(zeros: Shape(2, 1)), actions: Tensor(zeros: Shape(2, 1)), rewards: tensor(rewards[t]),
                       values: tensor(values[t]), dones: dones[t])
        }
        let gamma: Float = 0.9, lambda: Float = 0.8
        buffer.computeAdvantages(lastValues: tensor([0.7, 0.9]), gamma: gamma, lambda: lambda)
        // Environment 0: step 1 is terminal, so step 2 stands alone and step 1 does not look past it.
        let d2: Float = 2 + 0.9 * 0.7 - 0.6, d1: Float = 0 - 0.4, d0: Float = 1 + 0.9 * 0.4 - 0.5
        let a2 = d2, a1 = d1, a0 = d0 + 0.9 * 0.8 * a1
        // Environment 1: no terminal step.
        let e2: Float = 1 + 0.9 * 0.9 - 0.1, e1: Float = 1 + 0.9 * 0.1 - 0.3, e0: Float = 0 + 0.9 * 0.3 - 0.2
        let b2 = e2, b1: Float = e1 + 0.72 * b2, b0: Float = e0 + 0.72 * b1
        let expected: [[Float]] = [[a0, b0], [a1, b1], [a2, b2]]
        for t in 0..<3 {
            for e in 0..<2 {
                #expect(abs(buffer.advantages[t, e] - expected[t][e]) < 1e-5)
                #expect(abs(buffer.returns[t, e] - (expected[t][e] + values[t][e])) < 1e-5)
            }
        }
    }
}
