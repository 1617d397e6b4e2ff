import DRLNN
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct ModelCheckpointTests {
    func temporaryPath(_ name: String) -> String { Scratch.directory("checkpoint") + "/" + name }

    /// Data, a model and an optimizer made from `seed`.
    func setup(seed: UInt64) -> (x: Tensor, labels: [Int32], model: Sequential, store: ParameterStore, optimizer: Adam) {
        var data = RandomGenerator(seed: 100)
        let x = Tensor.normal(Shape(64, 10), using: &data)
        let labels = (0..<64).map { _ in Int32(data.next(upperBound: UInt64(4))) }
        var rng = RandomGenerator(seed: seed)
        let model = Sequential.mlp([10, 32, 4], using: &rng)
        let store = ParameterStore(model)
        return (x, labels, model, store, Adam(store, learningRate: 1e-2))
    }

    func trainStep(_ s: (x: Tensor, labels: [Int32], model: Sequential, store: ParameterStore, optimizer: Adam),
                   _ loss: SoftmaxCrossEntropyLoss) throws -> Float {
        s.store.zeroGradients()
        let value = loss(s.model.forward(s.x), targets: s.labels)
        s.model.backwardFromLoss(loss.gradient)
        try s.optimizer.update()
        return value
    }

    @Test func resumedTrainingContinuesWithTheSameLosses() throws {
        let path = temporaryPath("run.safetensors")
        let uninterrupted = setup(seed: 1)
        let loss = SoftmaxCrossEntropyLoss()
        var losses: [Float] = []
        for step in 0..<12 {
            losses.append(try trainStep(uninterrupted, loss))
            if step == 5 { try ModelCheckpoint.save(uninterrupted.store, optimizer: uninterrupted.optimizer, to: path) }
        }
        // A model with other initial weights, restored from step 6.
        let resumed = setup(seed: 2)
        try ModelCheckpoint.load(from: path, into: resumed.store, optimizer: resumed.optimizer)
        #expect(resumed.optimizer.step == 6)
        let continued = try (6..<12).map { _ in try trainStep(resumed, loss) }
        #expect(continued == Array(losses[6...]))
        #expect(resumed.store.values == uninterrupted.store.values)
    }

    @Test func parametersRoundTripBitExactlyUnderPyTorchStyleNames() throws {
        let path = temporaryPath("model.safetensors")
        let model = setup(seed: 3)
        try ModelCheckpoint.save(model.store, metadata: ["note": "test"], to: path)
        let (tensors, metadata) = try SafeTensors.read(from: path)
        #expect(tensors.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(metadata == ["note": "test"])
        let other = setup(seed: 4)
        try ModelCheckpoint.load(from: path, into: other.store)
        #expect(other.store.values == model.store.values)
    }

    @Test func mismatchedModelsAndMissingOptimizerStateAreRejected() throws {
        let path = temporaryPath("small.safetensors")
        let model = setup(seed: 5)
        try ModelCheckpoint.save(model.store, to: path)
        // Loading with an optimizer needs optimizer state in the file.
        let other = setup(seed: 6)
        let before = other.store.values.clone()
        let missing = #expect(throws: CheckpointError.self) {
            try ModelCheckpoint.load(from: path, into: other.store, optimizer: other.optimizer)
        }
        #expect(missing?.description.contains("optimizer.step") == true)
        #expect(other.store.values == before)
        // A different architecture: names match, shapes do not.
        var rng = RandomGenerator(seed: 7)
        let wider = ParameterStore(Sequential.mlp([10, 48, 4], using: &rng))
        let mismatch = #expect(throws: CheckpointError.self) { try ModelCheckpoint.load(from: path, into: wider) }
        #expect(mismatch?.description.contains("0.weight") == true)
    }
}
