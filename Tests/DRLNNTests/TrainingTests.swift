import DRLNN
import DRLTensor
import Testing

@Suite struct TrainingTests {
    /// A 2-layer MLP memorises a fixed random classification set (random labels: only capacity and
    /// a correct backward pass get it to 100%).
    @Test func mlpFitsRandomLabelsToFullTrainAccuracy() {
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
            optimizer.update()
        }
        var predicted = [Int32](repeating: 0, count: samples)
        rowArgmax(model.forward(x), into: &predicted)
        let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(samples)
        #expect(accuracy == 1, "train accuracy \(accuracy), loss \(firstLoss) → \(lastLoss)")
        #expect(lastLoss < 0.05 * firstLoss)
    }

    @Test func sameSeedGivesTheSameTrainingRun() {
        func run() -> [Float] {
            var rng = RandomGenerator(seed: 3)
            let x = Tensor.normal(Shape(32, 8), using: &rng)
            let y = Tensor.normal(Shape(32, 2), using: &rng)
            let model = Sequential.mlp([8, 16, 2], activation: .gelu, using: &rng)
            let store = ParameterStore(model)
            let optimizer = Adam(store, learningRate: 1e-2)
            let loss = MSELoss()
            return (0..<20).map { _ in
                store.zeroGradients()
                let l = loss(model.forward(x), y)
                model.backwardFromLoss(loss.gradient)
                optimizer.update()
                return l
            }
        }
        let first = run()
        #expect(first == run())
        #expect(first.last! < first.first!)
    }
}
