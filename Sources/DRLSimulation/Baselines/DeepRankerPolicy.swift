import DRLAgents
import DRLNN
import DRLTensor

/// The clicks of logged users as supervised examples: for every click, the observation the
/// platform had just before it (a sequence observation) and the item clicked.
public struct NextClickExamples: Sendable {
    /// [examples, observationDimension].
    public let observations: Tensor
    public let items: [Int32]

    public var count: Int { items.count }
}

/// Serves `users` simulated users with `policy` (user u seeded with `seed + u`) and records, for
/// every click, the sequence observation of `historyTokens` interactions before the slate and the
/// clicked item.
public func logNextClicks<Platform: RecommendationEnvironment & SequenceObservable>(
    _ policy: SlatePolicy, on environment: Platform, historyTokens: Int, users: Int, seed: UInt64) -> NextClickExamples {
    let dimension = environment.stateEncoderLayout(historyTokens: historyTokens).observationDimension
    var observation = Tensor(zeros: Shape(environment.observationSpace.dimension)), sequence = Tensor(zeros: Shape(dimension))
    var slate = [Int32](repeating: 0, count: environment.slateSize)
    var scalars: [Float] = [], items: [Int32] = []
    for u in 0..<users {
        environment.reset(seed: seed &+ UInt64(u), observation: &observation)
        while true {
            environment.writeSequenceObservation(historyTokens: historyTokens, into: &sequence)
            policy.recommend(environment, observation: observation, into: &slate)
            let result = environment.step(.slate(slate), observation: &observation)
            if let item = environment.lastClickedItem {
                sequence.withUnsafeBufferPointer { scalars.append(contentsOf: $0) }
                items.append(item)
            }
            if result.terminated || result.truncated { break }
        }
    }
    return NextClickExamples(observations: Tensor(shape: Shape(items.count, dimension), scalars: scalars), items: items)
}

/// A supervised deep ranker, the model a platform trains on its logs: the same state encoder as
/// the RL ranker (`SequenceStateEncoder`) and a Linear layer to a score per item, trained with
/// softmax cross-entropy to predict the item a user clicks next from what came before (next-item
/// prediction, as GRU4Rec and SASRec do). It ranks the unseen allowed items by predicted
/// probability, and knows nothing of what a slate does to the user's future. It reads the
/// platform's sequence observation (`SequenceObservable`) whatever observation the platform
/// gives its agents.
public final class DeepRankerPolicy: SlatePolicy {
    public let name = "deep-ranker"
    public let encoder: SequenceStateEncoder
    public let output: Linear
    public let store: ParameterStore
    /// Mean cross-entropy of each training epoch.
    public private(set) var epochLosses: [Float] = []
    private var values: Tensor, sequence: Tensor

    public init(layout: SequenceStateEncoder.Configuration, seed: UInt64) {
        var rng = RandomGenerator(seed: seed, stream: 0xD7)
        encoder = SequenceStateEncoder(layout, using: &rng)
        output = Linear(layout.outputDimension, layout.items, using: &rng)
        store = ParameterStore(prefixedParameters([("encoder", encoder), ("output", output)]))
        encoder.isTraining = false
        values = Tensor(zeros: Shape(1, 1))
        sequence = Tensor(zeros: Shape(1, layout.observationDimension))
    }

    /// Trains on `examples` for `epochs` passes in shuffled minibatches with Adam.
    public func train(on examples: NextClickExamples, epochs: Int = 8, batchSize: Int = 256, learningRate: Float = 1e-3,
                      seed: UInt64) throws(NonFiniteError) {
        let dimension = encoder.configuration.observationDimension
        require(examples.observations.shape[1] == dimension && examples.count > 0 && epochs > 0 && batchSize > 0,
                "DeepRankerPolicy.train: \(examples.count) examples of width \(examples.observations.shape[1]) for observations of \(dimension), \(epochs) epochs, batch \(batchSize)")
        var rng = RandomGenerator(seed: seed, stream: 0xD8)
        let optimizer = Adam(store, learningRate: learningRate)
        let loss = SoftmaxCrossEntropyLoss()
        var order = Array(0..<examples.count)
        let batch = Tensor(workspace: Shape(batchSize, dimension))
        var targets: [Int32] = []
        encoder.isTraining = true
        defer { encoder.isTraining = false }
        for _ in 0..<epochs {
            rng.shuffle(&order)
            var total: Float = 0, batches = 0
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let rows = order[start..<min(start + batchSize, order.count)]
                let view = batch[rows: 0..<rows.count]
                targets.removeAll(keepingCapacity: true)
                for (r, example) in rows.enumerated() {
                    var destination = view[row: r]  // a view of the workspace batch: the copy lands in it
                    destination.copy(from: examples.observations[row: example])
                    targets.append(examples.items[example])
                }
                store.zeroGradients()
                let logits = output.forward(encoder.forward(view))
                total += loss(logits, targets: targets)
                batches += 1
                encoder.backwardParametersOnly(output.backward(loss.gradient))
                try optimizer.update()
            }
            epochLosses.append(total / Float(batches))
        }
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        let n = environment.catalogue.count
        require(n == output.outFeatures, "DeepRankerPolicy: the model scores \(output.outFeatures) items; the platform has \(n)")
        guard let platform = environment as? SequenceObservable else {
            requirementFailure("DeepRankerPolicy reads sequence observations; this platform gives none")
        }
        platform.writeSequenceObservation(historyTokens: encoder.configuration.historyLength, into: &sequence)
        var scores = output.forward(encoder.forward(sequence)).reshaped(Shape(n))
        environment.constraints.mask(&scores)
        for item in environment.shownItems { scores[flat: Int(item)] = -.infinity }
        if values.count != slate.count { values = Tensor(zeros: Shape(1, slate.count)) }
        topK(scores.reshaped(Shape(1, n)), k: slate.count, values: &values, indices: &slate)
    }
}
