import DRLTensor

/// Multi-head scaled dot-product self-attention over [batch, time, features] inputs, with a fused
/// QKV projection Linear(d, 3d) (PyTorch's in_proj layout: rows q, then k, then v), an output
/// projection Linear(d, d), an optional causal mask and an optional key-padding mask.
///
/// Per head h: S = QₕKₕᵀ/sqrt(d/H) with masked entries −inf, P = softmax(S), Oₕ = PVₕ. A query whose
/// keys are all masked attends to nothing (its output is 0, not NaN).
public final class MultiHeadSelfAttention: Layer {
    public let dimension: Int, heads: Int, headDimension: Int
    public let causal: Bool
    public let qkv: Linear, output: Linear
    public var isTraining = true
    /// Key-padding mask for the next forward: batch·time flags, true where a key is padding.
    public var keyPaddingMask: [Bool]? {
        get { hasPaddingMask ? paddingMask : nil }
        set {
            hasPaddingMask = newValue != nil
            paddingMask.removeAll(keepingCapacity: true)
            if let newValue { paddingMask.append(contentsOf: newValue) }
        }
    }

    private var paddingMask: [Bool] = []
    private var hasPaddingMask = false
    private var batch = 0, time = 0
    private var projected = Tensor(zeros: Shape(0, 0, 0))
    private var probabilities = Buffer(), merged = Buffer(), dProbabilities = Buffer(), dqkv = Buffer()

    public init(dimension: Int, heads: Int, causal: Bool = false, using rng: inout RandomGenerator) {
        require(heads > 0 && dimension > 0 && dimension % heads == 0,
                "MultiHeadSelfAttention: dimension \(dimension) must be a positive multiple of heads \(heads)")
        self.dimension = dimension
        self.heads = heads
        headDimension = dimension / heads
        self.causal = causal
        qkv = Linear(dimension, 3 * dimension, using: &rng)
        output = Linear(dimension, dimension, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixedParameters([("qkv", qkv), ("out", output)])
    }

    private var scale: Float { 1 / Float(headDimension).squareRoot() }

    // Per-head matrices are read and written in place, through layouts, inside the [B, T, 3d]
    // projections (q | k | v sections), the [B, T, d] merged context and the [B·H, T, T] scores.
    private func section(_ s: Int) -> MatrixBatchLayout {
        MatrixBatchLayout(offset: s * dimension, leadingDimension: 3 * dimension, outerStride: time * 3 * dimension,
                          innerStride: headDimension)
    }
    private var scoresLayout: MatrixBatchLayout {
        MatrixBatchLayout(leadingDimension: time, outerStride: heads * time * time, innerStride: time * time)
    }
    private var mergedLayout: MatrixBatchLayout {
        MatrixBatchLayout(leadingDimension: dimension, outerStride: time * dimension, innerStride: headDimension)
    }

    public func forward(_ x: Tensor) -> Tensor {
        require(x.rank == 3 && x.shape[2] == dimension,
                "MultiHeadSelfAttention(\(dimension)): input \(x.shape) must be [batch, time, \(dimension)]")
        batch = x.shape[0]
        time = x.shape[1]
        require(!hasPaddingMask || paddingMask.count == batch * time,
                "MultiHeadSelfAttention: key-padding mask has \(paddingMask.count) flags for batch \(batch) × time \(time)")
        projected = qkv.forward(x)
        let (t, dh) = (time, headDimension)
        var p = probabilities.view(Shape(batch * heads, t, t))
        batchedGemm(projected, section(0), projected, section(1), into: &p, scoresLayout, m: t, n: t, k: dh,
                    outer: batch, inner: heads, transposeB: true, alpha: scale)          // S = Q·Kᵀ/sqrt(dh)
        applyMasks(&p)
        softmaxInPlace(&p)
        var m = merged.view(Shape(batch, t, dimension))
        batchedGemm(p, scoresLayout, projected, section(2), into: &m, mergedLayout, m: t, n: dh, k: t,
                    outer: batch, inner: heads)                                          // O = P·V
        return output.forward(m)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (t, dh) = (time, headDimension)
        let dMerged = output.backward(gradOutput)
        let p = probabilities.view(Shape(batch * heads, t, t))
        var dProjected = dqkv.view(Shape(batch, t, 3 * dimension))
        batchedGemm(p, scoresLayout, dMerged, mergedLayout, into: &dProjected, section(2), m: t, n: dh, k: t,
                    outer: batch, inner: heads, transposeA: true)                        // dV = Pᵀ·dO
        var dp = dProbabilities.view(p.shape)
        batchedGemm(dMerged, mergedLayout, projected, section(2), into: &dp, scoresLayout, m: t, n: t, k: dh,
                    outer: batch, inner: heads, transposeB: true)                        // dP = dO·Vᵀ
        softmaxBackward(output: p, gradOutput: dp, into: &dp)                            // dS (0 where masked)
        batchedGemm(dp, scoresLayout, projected, section(1), into: &dProjected, section(0), m: t, n: dh, k: t,
                    outer: batch, inner: heads, alpha: scale)                            // dQ = dS·K/sqrt(dh)
        batchedGemm(dp, scoresLayout, projected, section(0), into: &dProjected, section(1), m: t, n: dh, k: t,
                    outer: batch, inner: heads, transposeA: true, alpha: scale)          // dK = dSᵀ·Q/sqrt(dh)
        return qkv.backward(dProjected)
    }

    /// Sets masked scores to −inf: keys after the query (causal) and padding keys.
    private func applyMasks(_ scores: inout Tensor) {
        guard causal || hasPaddingMask else { return }
        let (b, t, h) = (batch, time, heads)
        let padded = hasPaddingMask
        paddingMask.withUnsafeBufferPointer { mask in
            scores.withUnsafeMutableBufferPointer { s in
                for bi in 0..<b {
                    for hi in 0..<h {
                        let block = s.baseAddress! + (bi * h + hi) * t * t
                        for i in 0..<t {
                            let row = block + i * t
                            if causal { for j in (i + 1)..<max(t, i + 1) { row[j] = -.infinity } }
                            if padded { for j in 0..<t where mask[bi * t + j] { row[j] = -.infinity } }
                        }
                    }
                }
            }
        }
    }
}
