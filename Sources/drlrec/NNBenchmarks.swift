import CAllocationCounter
import DRLNN
import DRLTensor

/// The peer workloads of ../shared/PERFORMANCE.md run through DRLNN, for `drlrec bench nn`.
/// Names match Benchmarks/peers/torch_workloads.py so that the two sides can be compared.
struct NNBenchmarks {
    let sampler: Sampler

    /// Every workload implemented so far, at the engine's current thread count.
    func runAll() -> [BenchResult] {
        [mlpTrainStep()]
    }

    /// (b) MLP 256→512(ReLU)→512(ReLU)→1682 logits, batch 1024, softmax cross-entropy, Adam
    /// lr 1e-3: one full train step (zero gradients, forward, loss, backward, update).
    func mlpTrainStep() -> BenchResult {
        var rng = RandomGenerator(seed: 1)
        let batch = 1024
        let x = Tensor.normal(Shape(batch, 256), using: &rng)
        let labels = (0..<batch).map { _ in Int32(rng.next(upperBound: UInt64(1682))) }
        let model = Sequential.mlp([256, 512, 512, 1682], using: &rng)
        let store = ParameterStore(model)
        let optimizer = Adam(store, learningRate: 1e-3)
        let loss = SoftmaxCrossEntropyLoss()
        return measure("mlp_train_step", batch: batch) {
            store.zeroGradients()
            _ = loss(model.forward(x), targets: labels)
            model.backwardFromLoss(loss.gradient)
            optimizer.update()
        }
    }

    /// Median time per step, samples per second, and heap allocations per steady-state step.
    func measure(_ name: String, batch: Int, _ step: () -> Void) -> BenchResult {
        let seconds = sampler.median(step)
        let steps = 20
        let before = drl_allocation_count()
        for _ in 0..<steps { step() }
        let after = drl_allocation_count()
        let allocations: Double? = before == UInt.max ? nil : Double(after - before) / Double(steps)
        return BenchResult(name: name, value: seconds * 1e3, unit: "ms", samplesPerSecond: Double(batch) / seconds,
                           allocationsPerStep: allocations)
    }
}
