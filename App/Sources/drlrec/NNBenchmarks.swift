import CAllocationCounter
import DRLNN
import DRLTensor

/// The peer workloads of ../shared/PERFORMANCE.md run through DRLNN, for `drlrec bench nn`.
/// Names match Benchmarks/peers/torch_workloads.py so that the two sides can be compared.
struct NNBenchmarks {
    let sampler: Sampler

    /// The workloads' names, in the order they run.
    static let names = ["mlp_train_step", "transformer_block_fwd_bwd", "gru_fwd_bwd", "lstm_fwd_bwd"]

    /// The named workloads (see `names`), at the engine's current thread count.
    func run(_ selected: [String]) -> [BenchResult] {
        selected.map { name in
            switch name {
            case "mlp_train_step": return mlpTrainStep()
            case "transformer_block_fwd_bwd": return transformerBlockForwardBackward()
            case "gru_fwd_bwd": return recurrentForwardBackward(lstm: false)
            case "lstm_fwd_bwd": return recurrentForwardBackward(lstm: true)
            default: requirementFailure("unknown workload \(name): the command validates names against NNBenchmarks.names")
            }
        }
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
            try! optimizer.update()  // a non-finite gradient here is a bug: stop with its report
        }
    }

    /// (c) Pre-LN transformer block on x = [256, 30, 64], 2 heads, causal, FFN 64→256→64 with GELU;
    /// loss = mean(out²); forward + backward, no optimizer.
    func transformerBlockForwardBackward() -> BenchResult {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor.normal(Shape(256, 30, 64), using: &rng)
        let block = TransformerBlock(dimension: 64, heads: 2, hidden: 256, causal: true, using: &rng)
        let store = ParameterStore(block)
        return measureSquaredMeanLoss("transformer_block_fwd_bwd", layer: block, store: store, input: x)
    }

    /// (d) GRU(64 → 64) over x = [256, 30, 64]; loss = mean(out²); forward + backward. With `lstm`,
    /// the same with an LSTM: not one of PERFORMANCE.md's workloads, but the other recurrent layer
    /// a user may choose.
    func recurrentForwardBackward(lstm: Bool) -> BenchResult {
        var rng = RandomGenerator(seed: lstm ? 4 : 3)
        let x = Tensor.normal(Shape(256, 30, 64), using: &rng)
        let layer: Layer = lstm ? LSTM(inputSize: 64, hiddenSize: 64, using: &rng) : GRU(inputSize: 64, hiddenSize: 64, using: &rng)
        return measureSquaredMeanLoss(lstm ? "lstm_fwd_bwd" : "gru_fwd_bwd", layer: layer, store: ParameterStore(layer), input: x)
    }

    /// Forward, loss = mean(y²) (gradient 2y/n), backward: the peer's workloads (c) and (d).
    func measureSquaredMeanLoss(_ name: String, layer: Layer, store: ParameterStore, input x: Tensor) -> BenchResult {
        var gradient = Tensor(workspace: Shape(0))
        return measure(name, batch: x.shape[0]) {
            store.zeroGradients()
            let y = layer.forward(x)
            if gradient.shape != y.shape { gradient = Tensor(workspace: y.shape) }
            affine(y, scale: 2 / Float(y.count), into: &gradient)
            _ = layer.backward(gradient)
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
