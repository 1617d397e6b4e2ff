// The peer workloads of ../shared/PERFORMANCE.md through DRLNN under package-benchmark, with
// malloc counts of a steady-state step (models and data are built in setup, outside the measured
// region): (b) the MLP train step with Adam, (c) the pre-LN transformer block forward+backward,
// (d) the GRU forward+backward; each at 1 and 2 threads.

import Benchmark
import DRLNN
import DRLTensor

/// Samples (batch rows) processed per second.
let samplesPerSecond = BenchmarkMetric.custom("samples/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Engine.configure(threads: 1)
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .mallocBytesCount, samplesPerSecond],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )
    for threads in [1, 2] {
        register("mlp_train_step t\(threads)", threads: threads, batch: 1024, makeMLPStep)
        register("transformer_block_fwd_bwd t\(threads)", threads: threads, batch: 256, makeTransformerStep)
        register("gru_fwd_bwd t\(threads)", threads: threads, batch: 256, makeGRUStep)
    }
}

/// A workload: one step, built once in setup.
final class Workload {
    let step: () -> Void
    init(_ step: @escaping () -> Void) { self.step = step }
}

func register(_ name: String, threads: Int, batch: Int, _ make: @escaping () -> Workload) {
    var workload: Workload?
    Benchmark(name) { benchmark in
        let w = workload!
        let start = ContinuousClock.now
        for _ in benchmark.scaledIterations { w.step() }
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        benchmark.measurement(samplesPerSecond, Int(Double(batch * benchmark.scaledIterations.count) / max(seconds, 1e-9)))
    } setup: {
        Engine.setThreadCount(threads)
        workload = make()
        workload!.step()  // grow every buffer before the measured region
    } teardown: {
        workload = nil
    }
}

func makeMLPStep() -> Workload {
    var rng = RandomGenerator(seed: 1)
    let x = Tensor.normal(Shape(1024, 256), using: &rng)
    let labels = (0..<1024).map { _ in Int32(rng.nextIndex(below: 1682)) }
    let model = Sequential.mlp([256, 512, 512, 1682], using: &rng)
    let store = ParameterStore(model)
    let optimizer = Adam(store, learningRate: 1e-3)
    let loss = SoftmaxCrossEntropyLoss()
    return Workload {
        store.zeroGradients()
        _ = loss(model.forward(x), targets: labels)
        model.backwardFromLoss(loss.gradient)
        try! optimizer.update()  // a non-finite gradient here is a bug: stop with its report
    }
}

/// Forward, loss = mean(y²) with gradient 2y/n, backward.
func squaredMeanStep(_ layer: Layer, _ x: Tensor) -> Workload {
    let store = ParameterStore(layer)
    var gradient = Tensor(workspace: Shape(0))
    return Workload {
        store.zeroGradients()
        let y = layer.forward(x)
        if gradient.shape != y.shape { gradient = Tensor(workspace: y.shape) }
        affine(y, scale: 2 / Float(y.count), into: &gradient)
        _ = layer.backward(gradient)
    }
}

func makeTransformerStep() -> Workload {
    var rng = RandomGenerator(seed: 2)
    let x = Tensor.normal(Shape(256, 30, 64), using: &rng)
    return squaredMeanStep(TransformerBlock(dimension: 64, heads: 2, hidden: 256, causal: true, using: &rng), x)
}

func makeGRUStep() -> Workload {
    var rng = RandomGenerator(seed: 3)
    let x = Tensor.normal(Shape(256, 30, 64), using: &rng)
    return squaredMeanStep(GRU(inputSize: 64, hiddenSize: 64, using: &rng), x)
}
