import DRLAgents
import DRLNN
import DRLTensor
import Testing

/// A one-step task that only a sequence encoder solves: the observation is one context feature
/// and a history of three tokens, padded in front to a random length of one to three; the best
/// action is the hidden value of the oldest item in the history. The reward is −(a − value)².
private final class OldestItemTask: Environment {
    static let items = 6, history = 3
    static let values: [Float] = [-0.8, -0.4, 0, 0.3, 0.6, 0.9]
    let observationSpace = Space.box(low: [Float](repeating: -10, count: 1 + history * 4), high: [Float](repeating: 10, count: 1 + history * 4))
    let actionSpace = Space.box(low: [-1], high: [1])
    private var rng = RandomGenerator(seed: 0)
    private var target: Float = 0

    func reset(seed: UInt64?, observation: inout Tensor) {
        if let seed { rng = RandomGenerator(seed: seed, stream: 0x01D) }
        Self.write(&observation, history: (0..<(1 + rng.nextIndex(below: Self.history))).map { _ in rng.nextIndex(below: Self.items) })
        target = Self.values[Int(observation[flat: 1 + (Self.history - Self.length(observation)) * 4])]
    }

    func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .continuous(let a) = action else { preconditionFailure("OldestItemTask takes a continuous action") }
        let error = a[flat: 0] - target
        return StepResult(reward: -error * error, terminated: true, truncated: false)
    }

    static func length(_ observation: Tensor) -> Int { (0..<history).filter { observation[flat: 1 + $0 * 4] >= 0 }.count }

    /// [context 0.5 | tokens oldest first, padded in front]; each token [item, item % 2, 0, 1].
    static func write(_ observation: inout Tensor, history items: [Int]) {
        observation.fill(with: 0)
        observation[flat: 0] = 0.5
        for t in 0..<history {
            let index = t - (history - items.count)
            let base = 1 + t * 4
            if index < 0 { observation[flat: base] = -1; continue }
            observation[flat: base] = Float(items[index])
            observation[flat: base + 1] = Float(items[index] % 2)
            observation[flat: base + 3] = 1
        }
    }

    static func encoder(_ model: SequenceStateEncoder.Configuration.SequenceModel) -> ObservationEncoder {
        var c = SequenceStateEncoder.Configuration(items: items, categories: 2, eventTypes: 1, historyLength: history, engagementFeatures: 1,
                                                   contextFeatures: 1)
        c.dimension = 16
        c.outputDimension = 16
        c.sequenceModel = model
        return ObservationEncoder(featureDimension: c.outputDimension) { SequenceStateEncoder(c, using: &$0) }
    }
}

@Suite struct SACEncoderTests {

    static func configuration() -> SACConfiguration {
        var c = SACConfiguration()
        c.hiddenSizes = [32, 32]
        c.batchSize = 32
        c.learningStarts = 200
        return c
    }

    /// The encoder learns with the critics: SAC picks the hidden value of the oldest item for
    /// every item and history length, which needs the item embeddings and the sequence model to
    /// learn which position holds the oldest real token.
    @Test(arguments: SequenceStateEncoder.Configuration.SequenceModel.allCases)
    func learnsThroughTheEncoder(_ model: SequenceStateEncoder.Configuration.SequenceModel) throws {
        let agent = SACAgent(observationDimension: 13, actionLow: [-1], actionHigh: [1], configuration: Self.configuration(),
                             encoder: OldestItemTask.encoder(model), seed: 1)
        let encoder = agent.encoder as! SequenceStateEncoder
        let initialItems = encoder.itemEmbedding.weight.value.clone()
        _ = try agent.train(on: OldestItemTask(), steps: 2_000, seed: 2, randomSteps: 100, evaluationEnvironment: OldestItemTask(),
                            evaluationInterval: 2_000, evaluationEpisodes: 5)
        #expect(encoder.itemEmbedding.weight.value != initialItems)
        var observation = Tensor(zeros: Shape(13))
        var worst: Float = 0
        for item in 0..<OldestItemTask.items {
            for length in 1...OldestItemTask.history {
                OldestItemTask.write(&observation, history: [item] + [Int](repeating: (item + 3) % OldestItemTask.items, count: length - 1))
                worst = max(worst, abs(agent.act(observation, mode: .greedy).values[flat: 0] - OldestItemTask.values[item]))
            }
        }
        #expect(worst < 0.25, "largest error \(worst) with the \(model) encoder")
    }

    /// The encoder's parameters are in the critic store (trained and checkpointed with it) and its
    /// target copy is Polyak-averaged with the target critics; acting leaves it unchanged.
    @Test func theEncoderIsPartOfTheCriticsAndTheirTargets() throws {
        var configuration = Self.configuration()
        configuration.learningStarts = 1_000_000
        let agent = SACAgent(observationDimension: 13, actionLow: [-1], actionHigh: [1], configuration: configuration,
                             encoder: OldestItemTask.encoder(.attention), seed: 3)
        #expect(agent.criticStore.parameters.map(\.name).contains("encoder.item.weight") && agent.targetStore.parameters.map(\.name).contains("encoder.item.weight"))
        #expect(!agent.actorStore.parameters.map(\.name).contains { $0.hasPrefix("encoder.") })
        let task = OldestItemTask()
        var observation = Tensor(zeros: Shape(13)), next = observation
        for seed in UInt64(0)..<64 {
            task.reset(seed: seed, observation: &observation)
            let action = agent.act(observation, mode: .explore).values.clone()
            let result = task.step(.continuous(action), observation: &next)
            try agent.observe(observation: observation, action: .continuous(action), reward: result.reward, nextObservation: next,
                              terminated: true, truncated: false)
        }
        #expect(agent.criticStore.values == agent.targetStore.values)
        let before = agent.targetStore.values.clone()
        try agent.trainStep()
        for i in 0..<agent.targetStore.count {
            #expect(abs(agent.targetStore.values[flat: i] - (0.995 * before[flat: i] + 0.005 * agent.criticStore.values[flat: i])) < 1e-5)
        }
        let encoder = agent.encoder as! SequenceStateEncoder
        #expect(encoder.contextNormalizer.count.value[flat: 0] == Float(configuration.batchSize))
        _ = agent.act(observation, mode: .greedy)
        #expect(encoder.contextNormalizer.count.value[flat: 0] == Float(configuration.batchSize))
    }
}
