import DRLTensor
import Testing

/// The README's library example, kept compiling and checked.
@Test func readmeExampleRuns() {
    Engine.configure()
    var rng = RandomGenerator(seed: 42)
    let x = Tensor.normal(Shape(1024, 256), using: &rng)
    let w = Tensor.normal(Shape(256, 1682), std: 0.05, using: &rng)
    var logits = Tensor(zeros: Shape(1024, 1682))
    var probabilities = Tensor(zeros: logits.shape)

    matmul(x, w, into: &logits)
    softmax(logits, into: &probabilities)
    let (scores, items) = topK(probabilities, k: 10)

    #expect(scores.shape == Shape(1024, 10) && items.count == 10 * 1024)
    var rowTotals = Tensor(zeros: Shape(1024))
    rowSums(probabilities, into: &rowTotals)
    #expect(rowTotals.scalars.allSatisfy { Swift.abs($0 - 1) < 1e-4 })
    #expect(Int(items[0]) == probabilities[row: 0].argmax())
}
