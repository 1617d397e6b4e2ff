import DRLNN
import DRLTensor

/// The peer workloads of ../shared/PERFORMANCE.md through DRLNN, each a model and its data built
/// once and one training step. Names match Benchmarks/peers/torch_workloads.py so that the two
/// sides can be compared.
public struct NNWorkload {
    /// The workloads, named as the PyTorch peer names them.
    public enum Kind: String, CaseIterable, Sendable {
        /// (b) MLP 256→512(ReLU)→512(ReLU)→1682 logits, batch 1024, softmax cross-entropy, Adam
        /// lr 1e-3: one full train step (zero gradients, forward, loss, backward, update).
        case mlpTrainStep = "mlp_train_step"
        /// (c) Pre-LN transformer block on x = [256, 30, 64], 2 heads, causal, FFN 64→256→64 with
        /// GELU; loss = mean(out²); forward + backward, no optimizer.
        case transformerBlockForwardBackward = "transformer_block_fwd_bwd"
        /// (d) GRU(64 → 64) over x = [256, 30, 64]; loss = mean(out²); forward + backward.
        case gruForwardBackward = "gru_fwd_bwd"
        /// The same with an LSTM: not one of PERFORMANCE.md's workloads, but the other recurrent
        /// layer a user may choose.
        case lstmForwardBackward = "lstm_fwd_bwd"
    }

    public let kind: Kind
    /// Samples (batch rows) per step.
    public let batch: Int
    /// One step. After the first, which grows the layers' buffers, a step allocates nothing.
    public let step: () -> Void

    public var name: String { kind.rawValue }

    public init(_ kind: Kind) {
        self.kind = kind
        switch kind {
        case .mlpTrainStep: (batch, step) = Self.mlpTrainStep()
        case .transformerBlockForwardBackward:
            var rng = RandomGenerator(seed: 2)
            let x = Tensor.normal(Shape(256, 30, 64), using: &rng)
            (batch, step) = Self.squaredMeanLoss(TransformerBlock(dimension: 64, heads: 2, hidden: 256, causal: true, using: &rng), x)
        case .gruForwardBackward, .lstmForwardBackward:
            let lstm = kind == .lstmForwardBackward
            var rng = RandomGenerator(seed: lstm ? 4 : 3)
            let x = Tensor.normal(Shape(256, 30, 64), using: &rng)
            let layer: Layer = lstm ? LSTM(inputSize: 64, hiddenSize: 64, using: &rng) : GRU(inputSize: 64, hiddenSize: 64, using: &rng)
            (batch, step) = Self.squaredMeanLoss(layer, x)
        }
    }

    private static func mlpTrainStep() -> (batch: Int, step: () -> Void) {
        var rng = RandomGenerator(seed: 1)
        let batch = 1024
        let x = Tensor.normal(Shape(batch, 256), using: &rng)
        let labels = (0..<batch).map { _ in Int32(rng.next(upperBound: UInt64(1682))) }
        let model = Sequential.mlp([256, 512, 512, 1682], using: &rng)
        let store = ParameterStore(model)
        let optimizer = Adam(store, learningRate: 1e-3)
        let loss = SoftmaxCrossEntropyLoss()
        return (batch, {
            store.zeroGradients()
            _ = loss(model.forward(x), targets: labels)
            model.backwardFromLoss(loss.gradient)
            try! optimizer.update()  // a non-finite gradient here is a bug: stop with its report
        })
    }

    /// Forward, loss = mean(y²) (gradient 2y/n), backward: the peer's workloads (c) and (d).
    private static func squaredMeanLoss(_ layer: Layer, _ x: Tensor) -> (batch: Int, step: () -> Void) {
        let store = ParameterStore(layer)
        var gradient = Tensor(workspace: Shape(0))
        return (x.shape[0], {
            store.zeroGradients()
            let y = layer.forward(x)
            if gradient.shape != y.shape { gradient = Tensor(workspace: y.shape) }
            affine(y, scale: 2 / Float(y.count), into: &gradient)
            _ = layer.backward(gradient)
        })
    }
}
