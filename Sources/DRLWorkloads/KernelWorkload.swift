import DRLTensor

/// One row or elementwise kernel on preallocated tensors.
public struct KernelWorkload {
    /// The name `drlrec bench core` prints.
    public let name: String
    /// Input elements per call.
    public let elements: Int
    public let step: () -> Void
    /// For an in-place form: restores the input the step overwrites, to be run before each timed
    /// run (repeated GELU would otherwise drive the values into denormals).
    public let restore: (() -> Void)?
}

/// The kernels' workloads on inputs drawn, in this order, from one generator (seed 11): logits
/// [4096, 1682] in [-8, 8), 1M floats in [-6, 6), a LayerNorm input [4096, 256] in [-3, 3) with
/// gamma in [0.5, 1.5) and beta in [-0.5, 0.5), then the top-k scores.
public struct KernelWorkloads {
    /// Softmax over the logits' rows.
    public let softmax: KernelWorkload
    /// GELU over the 1M floats.
    public let gelu: KernelWorkload
    /// LayerNorm with gamma and beta, into preallocated output, mean and rstd.
    public let layerNorm: KernelWorkload
    /// Top-k as the recommenders use it: a slate builder's 200 candidates from a 10,000-item
    /// catalogue, and full-ranking evaluation's top 10 of 1,682 movies for each of 943 users.
    public let topK: [KernelWorkload]
    private let logits: Tensor, x: Tensor

    public init() {
        var rng = RandomGenerator(seed: 11)
        let logits = Tensor.uniform(Shape(4096, 1682), -8, 8, using: &rng)
        var probabilities = Tensor(zeros: logits.shape)
        softmax = KernelWorkload(name: "softmax_4096x1682", elements: logits.count,
                                 step: { DRLTensor.softmax(logits, into: &probabilities) }, restore: nil)

        let x = Tensor.uniform(Shape(1 << 20), -6, 6, using: &rng)
        var y = Tensor(zeros: x.shape)
        gelu = KernelWorkload(name: "gelu_1M", elements: x.count, step: { Activation.gelu.forward(x, into: &y) }, restore: nil)

        let h = Tensor.uniform(Shape(4096, 256), -3, 3, using: &rng)
        let gamma = Tensor.uniform(Shape(256), 0.5, 1.5, using: &rng)
        let beta = Tensor.uniform(Shape(256), -0.5, 0.5, using: &rng)
        var normalized = Tensor(zeros: h.shape)
        var mean = Tensor(zeros: Shape(4096)), rstd = Tensor(zeros: Shape(4096))
        layerNorm = KernelWorkload(name: "layernorm_4096x256", elements: h.count, step: {
            DRLTensor.layerNorm(h, gamma: gamma, beta: beta, into: &normalized, mean: &mean, rstd: &rstd)
        }, restore: nil)

        topK = [(1, 10_000, 200), (943, 1682, 10)].map { (rows, cols, k) in
            let scores = Tensor.uniform(Shape(rows, cols), -1, 1, using: &rng)
            var values = Tensor(zeros: Shape(rows, k))
            var indices = [Int32](repeating: 0, count: rows * k)
            return KernelWorkload(name: "topk_\(rows)x\(cols)_k\(k)", elements: scores.count,
                                  step: { DRLTensor.topK(scores, k: k, values: &values, indices: &indices) }, restore: nil)
        }
        (self.logits, self.x) = (logits, x)
    }

    /// The forms into preallocated outputs, in the order `drlrec bench core` runs them.
    public var all: [KernelWorkload] { [softmax, gelu, layerNorm] + topK }

    /// `softmaxInPlace` over a copy of the logits.
    public func softmaxInPlace() -> KernelWorkload {
        var work = Tensor(zeros: logits.shape)
        return KernelWorkload(name: softmax.name, elements: logits.count, step: { DRLTensor.softmaxInPlace(&work) },
                              restore: { [logits] in work.copy(from: logits) })
    }

    /// GELU's `forwardInPlace` over a copy of the 1M floats.
    public func geluInPlace() -> KernelWorkload {
        var work = Tensor(zeros: x.shape)
        return KernelWorkload(name: gelu.name, elements: x.count, step: { Activation.gelu.forwardInPlace(&work) },
                              restore: { [x] in work.copy(from: x) })
    }
}
