import DRLNN
import DRLTensor
import Testing

@Suite struct TrainingTests {
    /// A 2-layer MLP memorises a fixed random classification set (random labels: only capacity and
    /// a correct backward pass get it to 100%).
    @Test func mlpFitsRandomLabelsToFullTrainAccuracy() throws {
        var rng = RandomGenerator(seed: 7)
        let samples = 128, features = 16, classes = 5
        let x = Tensor.normal(Shape(samples, features), using: &rng)
        let labels = (0..<samples).map { _ in Int32(rng.next(upperBound: UInt64(classes))) }
        let model = Sequential.mlp([features, 64, classes], using: &rng)
        let store = ParameterStore(model)
        let optimizer = Adam(store, learningRate: 1e-2)
        let loss = SoftmaxCrossEntropyLoss()
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<400 {
            store.zeroGradients()
            let logits = model.forward(x)
            lastLoss = loss(logits, targets: labels)
            if step == 0 { firstLoss = lastLoss }
            model.backwardFromLoss(loss.gradient)
            try optimizer.update()
        }
        var predicted = [Int32](repeating: 0, count: samples)
        rowArgmax(model.forward(x), into: &predicted)
        let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(samples)
        #expect(accuracy == 1, "train accuracy \(accuracy), loss \(firstLoss) → \(lastLoss)")
        #expect(lastLoss < 0.05 * firstLoss)
    }

    @Test func sameSeedGivesTheSameTrainingRun() throws {
        func run() throws -> [Float] {
            var rng = RandomGenerator(seed: 3)
            let x = Tensor.normal(Shape(32, 8), using: &rng)
            let y = Tensor.normal(Shape(32, 2), using: &rng)
            let model = Sequential.mlp([8, 16, 2], activation: .gelu, using: &rng)
            let store = ParameterStore(model)
            let optimizer = Adam(store, learningRate: 1e-2)
            let loss = MSELoss()
            return try (0..<20).map { _ in
                store.zeroGradients()
                let l = loss(model.forward(x), y)
                model.backwardFromLoss(loss.gradient)
                try optimizer.update()
                return l
            }
        }
        let first = try run()
        #expect(try first == run())
        #expect(first.last! < first.first!)
    }
}

extension TrainingTests {
    /// A one-block causal transformer learns to copy: each sequence is 4 random tokens followed by
    /// the same 4 tokens, and the model must predict the second half by attending 4 steps back.
    @Test func attentionModelLearnsToCopyASequence() throws {
        var rng = RandomGenerator(seed: 11)
        let vocabulary = 8, half = 4, length = 2 * half, batch = 64, width = 32
        let embedding = Embedding(vocabulary, width, using: &rng)
        let positions = LearnedPositionalEncoding(maxLength: length, dimension: width, using: &rng)
        let block = TransformerBlock(dimension: width, heads: 2, hidden: 64, causal: true, using: &rng)
        let head = Linear(width, vocabulary, using: &rng)
        let store = ParameterStore(prefixedParameters([("embedding", embedding), ("positions", positions), ("block", block), ("head", head)]))
        let optimizer = Adam(store, learningRate: 3e-3)
        let loss = SoftmaxCrossEntropyLoss()
        // Only predictions of the copied half count: the first half is random.
        let weights = Tensor(shape: Shape(batch * length), generator: { i in
            let t = i % length
            return t >= half - 1 && t < length - 1 ? Float(length) / Float(half) : 0
        })
        func makeBatch() -> (inputs: [Int32], targets: [Int32]) {
            var inputs = [Int32](), targets = [Int32]()
            for _ in 0..<batch {
                let first = (0..<half).map { _ in Int32(rng.next(upperBound: UInt64(vocabulary))) }
                let sequence = first + first
                inputs += sequence
                targets += Array(sequence.dropFirst()) + [0]
            }
            return (inputs, targets)
        }
        func logits(_ inputs: [Int32]) -> Tensor {
            let x = positions.forward(embedding.forward(inputs, shape: Shape(batch, length)))
            return head.forward(block.forward(x)).reshaped(Shape(batch * length, vocabulary))
        }
        for _ in 0..<300 {
            let (inputs, targets) = makeBatch()
            store.zeroGradients()
            _ = loss(logits(inputs), targets: targets, weights: weights)
            let dx = block.backward(head.backward(loss.gradient.reshaped(Shape(batch, length, vocabulary))))
            embedding.backward(positions.backward(dx))
            try optimizer.update()
        }
        let (inputs, targets) = makeBatch()
        var predicted = [Int32](repeating: 0, count: batch * length)
        rowArgmax(logits(inputs), into: &predicted)
        var correct = 0, counted = 0
        for i in 0..<(batch * length) where weights[flat: i] > 0 {
            counted += 1
            if predicted[i] == targets[i] { correct += 1 }
        }
        let accuracy = Double(correct) / Double(counted)
        #expect(accuracy > 0.95, "copy accuracy \(accuracy) on a fresh batch")
    }
}
