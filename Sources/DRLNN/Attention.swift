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
    private var q = Buffer(), k = Buffer(), v = Buffer(), probabilities = Buffer(), context = Buffer(), merged = Buffer()
    private var dContext = Buffer(), dProbabilities = Buffer(), dq = Buffer(), dk = Buffer(), dv = Buffer(), dqkv = Buffer()

    public init(dimension: Int, heads: Int, causal: Bool = false, using rng: inout RandomGenerator) {
        precondition(heads > 0 && dimension > 0 && dimension % heads == 0,
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

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == dimension,
                     "MultiHeadSelfAttention(\(dimension)): input \(x.shape) must be [batch, time, \(dimension)]")
        batch = x.shape[0]
        time = x.shape[1]
        precondition(!hasPaddingMask || paddingMask.count == batch * time,
                     "MultiHeadSelfAttention: key-padding mask has \(paddingMask.count) flags for batch \(batch) × time \(time)")
        let projected = qkv.forward(x)
        let headShape = Shape(batch * heads, time, headDimension)
        var qh = q.view(headShape), kh = k.view(headShape), vh = v.view(headShape)
        splitHeads(projected, into: &qh, &kh, &vh)
        var p = probabilities.view(Shape(batch * heads, time, time))
        batchedGemm(qh, kh, into: &p, transposeB: true, alpha: scale)
        applyMasks(&p)
        softmaxInPlace(&p)
        var c = context.view(headShape)
        batchedGemm(p, vh, into: &c)
        var m = merged.view(Shape(batch, time, dimension))
        mergeHeads(c, into: &m)
        return output.forward(m)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let headShape = Shape(batch * heads, time, headDimension)
        let dMerged = output.backward(gradOutput)
        var dc = dContext.view(headShape)
        splitHeads(dMerged, into: &dc)
        let p = probabilities.view(Shape(batch * heads, time, time))
        let qh = q.view(headShape), kh = k.view(headShape), vh = v.view(headShape)
        var dvh = dv.view(headShape)
        batchedGemm(p, dc, into: &dvh, transposeA: true)          // dV = Pᵀ·dO
        var dp = dProbabilities.view(p.shape)
        batchedGemm(dc, vh, into: &dp, transposeB: true)          // dP = dO·Vᵀ
        softmaxBackward(output: p, gradOutput: dp, into: &dp)     // dS (0 where masked)
        var dqh = dq.view(headShape), dkh = dk.view(headShape)
        batchedGemm(dp, kh, into: &dqh, alpha: scale)             // dQ = dS·K/sqrt(dh)
        batchedGemm(dp, qh, into: &dkh, transposeA: true, alpha: scale)  // dK = dSᵀ·Q/sqrt(dh)
        var dProjected = dqkv.view(Shape(batch, time, 3 * dimension))
        mergeHeads(dqh, dkh, dvh, into: &dProjected)
        return qkv.backward(dProjected)
    }

    /// [B, T, 3d] (q | k | v, each head-major) → three [B·H, T, dh] tensors.
    private func splitHeads(_ projected: Tensor, into qh: inout Tensor, _ kh: inout Tensor, _ vh: inout Tensor) {
        let (b, t, h, dh, d) = (batch, time, heads, headDimension, dimension)
        projected.withUnsafeBufferPointer { src in
            qh.withUnsafeMutableBufferPointer { pq in
                kh.withUnsafeMutableBufferPointer { pk in
                    vh.withUnsafeMutableBufferPointer { pv in
                        for bi in 0..<b {
                            for ti in 0..<t {
                                let row = src.baseAddress! + (bi * t + ti) * 3 * d
                                for hi in 0..<h {
                                    let dst = ((bi * h + hi) * t + ti) * dh
                                    (pq.baseAddress! + dst).update(from: row + hi * dh, count: dh)
                                    (pk.baseAddress! + dst).update(from: row + d + hi * dh, count: dh)
                                    (pv.baseAddress! + dst).update(from: row + 2 * d + hi * dh, count: dh)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// [B, T, d] → [B·H, T, dh].
    private func splitHeads(_ merged: Tensor, into heads: inout Tensor) {
        let (b, t, h, dh, d) = (batch, time, self.heads, headDimension, dimension)
        merged.withUnsafeBufferPointer { src in
            heads.withUnsafeMutableBufferPointer { dst in
                for bi in 0..<b { for ti in 0..<t { for hi in 0..<h {
                    (dst.baseAddress! + ((bi * h + hi) * t + ti) * dh).update(from: src.baseAddress! + (bi * t + ti) * d + hi * dh, count: dh)
                } } }
            }
        }
    }

    /// [B·H, T, dh] → [B, T, d].
    private func mergeHeads(_ heads: Tensor, into merged: inout Tensor) {
        let (b, t, h, dh, d) = (batch, time, self.heads, headDimension, dimension)
        heads.withUnsafeBufferPointer { src in
            merged.withUnsafeMutableBufferPointer { dst in
                for bi in 0..<b { for ti in 0..<t { for hi in 0..<h {
                    (dst.baseAddress! + (bi * t + ti) * d + hi * dh).update(from: src.baseAddress! + ((bi * h + hi) * t + ti) * dh, count: dh)
                } } }
            }
        }
    }

    /// Three [B·H, T, dh] gradients → [B, T, 3d] in the QKV projection's layout.
    private func mergeHeads(_ dqh: Tensor, _ dkh: Tensor, _ dvh: Tensor, into projected: inout Tensor) {
        let (b, t, h, dh, d) = (batch, time, heads, headDimension, dimension)
        dqh.withUnsafeBufferPointer { pq in
            dkh.withUnsafeBufferPointer { pk in
                dvh.withUnsafeBufferPointer { pv in
                    projected.withUnsafeMutableBufferPointer { dst in
                        for bi in 0..<b {
                            for ti in 0..<t {
                                let row = dst.baseAddress! + (bi * t + ti) * 3 * d
                                for hi in 0..<h {
                                    let src = ((bi * h + hi) * t + ti) * dh
                                    (row + hi * dh).update(from: pq.baseAddress! + src, count: dh)
                                    (row + d + hi * dh).update(from: pk.baseAddress! + src, count: dh)
                                    (row + 2 * d + hi * dh).update(from: pv.baseAddress! + src, count: dh)
                                }
                            }
                        }
                    }
                }
            }
        }
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
