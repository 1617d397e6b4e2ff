import DRLAgents
import DRLNN
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct AgentCheckpointTests {
    static func temporaryPath() -> String { Scratch.path("agent.safetensors") }

    static func feedRandomTransitions(_ count: Int, into agent: DQNAgent, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed)
        for _ in 0..<count {
            try agent.observe(observation: Tensor.uniform(Shape(4), -1, 1, using: &rng),
                              action: .discrete(rng.nextIndex(below: 2)), reward: rng.uniform(),
                              nextObservation: Tensor.uniform(Shape(4), -1, 1, using: &rng),
                              terminated: false, truncated: false)
        }
    }

    static func smallDQN(hidden: [Int] = [16], seed: UInt64) -> DQNAgent {
        var configuration = DQNConfiguration()
        configuration.hiddenSizes = hidden
        configuration.batchSize = 8
        configuration.learningStarts = 32
        configuration.trainFrequency = 4
        configuration.gradientSteps = 2
        configuration.targetUpdateInterval = 10
        return DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: seed)
    }

    /// A restored agent has the trained agent's networks, target and counters, acts the same, and
    /// fed the same transitions afterwards, keeps exactly the same numbers.
    @Test func dqnRestoredAgentContinuesWithIdenticalNumbers() throws {
        let trained = Self.smallDQN(seed: 1)
        try Self.feedRandomTransitions(200, into: trained, seed: 2)
        #expect(trained.gradientSteps > 0)
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try trained.save(to: path)

        let restored = Self.smallDQN(seed: 9)
        #expect(restored.onlineStore.values != trained.onlineStore.values)
        try restored.load(from: path)
        #expect(restored.onlineStore.values == trained.onlineStore.values)
        #expect(restored.targetStore.values == trained.targetStore.values)
        #expect(restored.environmentSteps == trained.environmentSteps && restored.gradientSteps == trained.gradientSteps)
        var rng = RandomGenerator(seed: 5)
        let observations = Tensor.uniform(Shape(32, 4), -2, 2, using: &rng)
        var a = [Int32](repeating: 0, count: 32), b = a
        trained.act(observations, mode: .explore, into: &a)
        restored.act(observations, mode: .explore, into: &b)
        #expect(a == b)

        let steps = trained.gradientSteps
        try Self.feedRandomTransitions(100, into: trained, seed: 3)
        try Self.feedRandomTransitions(100, into: restored, seed: 3)
        #expect(trained.gradientSteps > steps && restored.gradientSteps == trained.gradientSteps)
        #expect(restored.onlineStore.values == trained.onlineStore.values)
        #expect(restored.targetStore.values == trained.targetStore.values)
    }

    /// A prioritized replay with 3-step returns saves its transitions, its priorities and the
    /// transitions pending in the n-step accumulators: a restored agent (feeding from the middle of
    /// an episode) keeps exactly the numbers of the one that saved it. A uniform-replay agent
    /// refuses the file.
    @Test func prioritizedNStepAgentRoundTripsExactly() throws {
        var configuration = DQNConfiguration()
        configuration.hiddenSizes = [16]
        configuration.batchSize = 8
        configuration.learningStarts = 32
        configuration.trainFrequency = 4
        configuration.gradientSteps = 2
        configuration.prioritized = true
        configuration.nSteps = 3
        let trained = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 1)
        try Self.feedRandomTransitions(201, into: trained, seed: 2)  // no episode ends: transitions stay pending
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try trained.save(to: path)
        let restored = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 3)
        try restored.load(from: path)
        for agent in [trained, restored] { try Self.feedRandomTransitions(60, into: agent, seed: 4) }
        #expect(restored.onlineStore.values == trained.onlineStore.values)
        #expect(restored.gradientSteps == trained.gradientSteps && restored.gradientSteps > 0)
        var uniform = configuration
        uniform.prioritized = false
        #expect(throws: CheckpointError.self) { try DQNAgent(observationDimension: 4, actions: 2, configuration: uniform, seed: 1).load(from: path) }
    }

    /// A policy file holds the online network alone (no target, optimizer or replay): a fresh
    /// agent that loads it acts as the trained one, and leaves its own counters and generator;
    /// resuming training from it is refused with nothing changed.
    @Test func aPolicyFileActsAsTheAgentAndCannotResume() throws {
        let trained = Self.smallDQN(seed: 1)
        try Self.feedRandomTransitions(200, into: trained, seed: 2)
        let policy = Self.temporaryPath(), state = Self.temporaryPath()
        defer { for path in [policy, state] { try? FileManager.default.removeItem(atPath: path) } }
        try trained.save(to: policy, contents: .policy)
        try trained.save(to: state)
        let header = try SafeTensors.describe(policy)
        #expect(header.tensors.map(\.name).sorted() == trained.onlineStore.parameters.map { "online." + $0.name }.sorted())
        #expect(header.metadata["drlrec.checkpoint_contents"] == "policy" && header.metadata["drlrec.gradient_steps"] == "\(trained.gradientSteps)")
        let sizes = try [policy, state].map { try #require(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
        #expect(sizes[0] * 10 < sizes[1], "policy \(sizes[0]) bytes, state \(sizes[1])")

        var rng = RandomGenerator(seed: 5)
        let observations = Tensor.uniform(Shape(32, 4), -2, 2, using: &rng)
        var expected = [Int32](repeating: 0, count: 32)
        trained.act(observations, mode: .greedy, into: &expected)
        for path in [policy, state] {
            let restored = Self.smallDQN(seed: 9)
            #expect(try restored.loadPolicy(from: path) == (path == policy ? .policy : .trainingState))
            var chosen = [Int32](repeating: 0, count: 32)
            restored.act(observations, mode: .greedy, into: &chosen)
            #expect(chosen == expected && restored.onlineStore.values == trained.onlineStore.values)
            #expect(restored.gradientSteps == 0 && restored.targetStore.values != trained.targetStore.values)
        }
        let other = Self.smallDQN(seed: 9)
        let before = other.onlineStore.values.clone()
        #expect { try other.load(from: policy) } throws: { "\($0)".contains("holds only the agent's policy") }
        #expect(other.onlineStore.values == before)
        // A policy of another kind is refused too.
        #expect { try SACAgent(observationDimension: 4, actionLow: [-1], actionHigh: [1], seed: 0).loadPolicy(from: policy) } throws: {
            "\($0)".contains("the file holds a 'dqn' agent, not a 'sac' agent")
        }
    }

    @Test func networksOfAnotherSizeAreRefusedUnchanged() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.smallDQN(hidden: [16], seed: 1).save(to: path)
        let other = Self.smallDQN(hidden: [32], seed: 2)
        let before = other.onlineStore.values.clone()
        #expect {
            try other.load(from: path)
        } throws: { error in
            guard case .shapeMismatch(let name, let expected, let found) = (error as? CheckpointError)?.reason else { return false }
            return name == "online.0.weight" && expected == [32, 4] && found == [16, 4]
        }
        #expect(other.onlineStore.values == before && other.environmentSteps == 0)
    }

    @Test func anotherAgentKindIsRefused() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], seed: 0).save(to: path)
        let td3 = TD3Agent(observationDimension: 3, actionLow: [-2], actionHigh: [2], seed: 0)
        #expect {
            try td3.load(from: path)
        } throws: { error in
            String(describing: error).contains("the file holds a 'sac' agent, not a 'td3' agent")
        }
        // A plain model checkpoint is not an agent checkpoint either.
        try ModelCheckpoint.save(td3.actorStore, to: path)
        #expect {
            try td3.load(from: path)
        } throws: { error in
            String(describing: error).contains("not a DRLRec agent checkpoint")
        }
    }

    @Test func continuousAgentsRoundTrip() throws {
        var sacConfiguration = SACConfiguration()
        sacConfiguration.hiddenSizes = [16]
        sacConfiguration.batchSize = 8
        sacConfiguration.learningStarts = 8
        var td3Configuration = TD3Configuration()
        td3Configuration.hiddenSizes = [16]
        td3Configuration.batchSize = 8
        td3Configuration.learningStarts = 8
        let sac = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: sacConfiguration, seed: 1)
        let td3 = TD3Agent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: td3Configuration, seed: 1)
        var rng = RandomGenerator(seed: 3)
        for _ in 0..<40 {
            let o = Tensor.uniform(Shape(3), -1, 1, using: &rng), next = Tensor.uniform(Shape(3), -1, 1, using: &rng)
            let a = Tensor.uniform(Shape(1), -2, 2, using: &rng), r = rng.uniform()
            try sac.observe(observation: o, action: .continuous(a), reward: r, nextObservation: next, terminated: false, truncated: false)
            try td3.observe(observation: o, action: .continuous(a), reward: r, nextObservation: next, terminated: false, truncated: false)
        }
        let probe = Tensor.uniform(Shape(3), -1, 1, using: &rng)
        /// Steps both agents through the same transitions with their own exploratory actions.
        func continueBoth(_ first: ContinuousControlAgent, _ second: ContinuousControlAgent) throws {
            var rng = RandomGenerator(seed: 11)
            for _ in 0..<20 {
                let o = Tensor.uniform(Shape(3), -1, 1, using: &rng), next = Tensor.uniform(Shape(3), -1, 1, using: &rng)
                let a1 = first.act(o, mode: .explore).values.clone(), a2 = second.act(o, mode: .explore).values.clone()
                #expect(a1 == a2)
                let r = rng.uniform()
                try first.observe(observation: o, action: .continuous(a1), reward: r, nextObservation: next, terminated: false, truncated: false)
                try second.observe(observation: o, action: .continuous(a2), reward: r, nextObservation: next, terminated: false, truncated: false)
            }
        }
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }

        try sac.save(to: path)
        let sacRestored = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: sacConfiguration, seed: 7)
        try sacRestored.load(from: path)
        #expect(sacRestored.actorStore.values == sac.actorStore.values && sacRestored.targetStore.values == sac.targetStore.values)
        #expect(sacRestored.temperature == sac.temperature && sacRestored.gradientSteps == sac.gradientSteps)
        #expect(sacRestored.act(probe, mode: .greedy).values == sac.act(probe, mode: .greedy).values)
        try continueBoth(sac, sacRestored)
        #expect(sacRestored.actorStore.values == sac.actorStore.values && sacRestored.criticStore.values == sac.criticStore.values)
        #expect(sacRestored.targetStore.values == sac.targetStore.values && sacRestored.temperature == sac.temperature)

        try td3.save(to: path)
        let td3Restored = TD3Agent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: td3Configuration, seed: 7)
        try td3Restored.load(from: path)
        #expect(td3Restored.targetActorStore.values == td3.targetActorStore.values)
        #expect(td3Restored.targetCriticStore.values == td3.targetCriticStore.values)
        #expect(td3Restored.gradientSteps == td3.gradientSteps && td3.gradientSteps > 0)
        #expect(td3Restored.act(probe, mode: .greedy).values == td3.act(probe, mode: .greedy).values)
        try continueBoth(td3, td3Restored)
        #expect(td3Restored.actorStore.values == td3.actorStore.values && td3Restored.criticStore.values == td3.criticStore.values)
        #expect(td3Restored.targetActorStore.values == td3.targetActorStore.values)
    }
}
