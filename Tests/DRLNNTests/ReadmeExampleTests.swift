import DRLNN
import DRLTensor
import Foundation
import ScratchFiles
import Testing

/// The README's DRLNN example (smaller sizes), kept compiling and checked.
@Test func readmeTrainingExampleRuns() throws {
    var rng = RandomGenerator(seed: 0)
    let model = Sequential.mlp([16, 32, 32, 10], using: &rng)
    let store = ParameterStore(model)
    let optimizer = Adam(store, learningRate: 1e-3)
    let loss = SoftmaxCrossEntropyLoss()
    let x = Tensor.normal(Shape(64, 16), using: &rng)
    let labels = (0..<64).map { _ in Int32(rng.nextIndex(below: 10)) }

    var values: [Float] = []
    for _ in 0..<10 {
        store.zeroGradients()
        let value = loss(model.forward(x), targets: labels)
        model.backwardFromLoss(loss.gradient)
        store.clipGradientNorm(1.0)
        try optimizer.update()
        values.append(value)
    }
    #expect(values.last! < values.first!)
    let path = Scratch.path("readme.safetensors")
    try ModelCheckpoint.save(store, optimizer: optimizer, to: path)
    let (tensors, _) = try SafeTensors.read(from: path)
    #expect(tensors.count == 6 + 2)
}
