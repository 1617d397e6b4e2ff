import DRLTensor

/// A product that a layer makes in small-matrix blocks (`gemm(…, blocking:)`):
/// C[M, N] = op(A)·B + beta·C, with op(A) = Aᵀ when `transposeA`.
public struct BlockedProduct: Sendable {
    public let name: String
    public let m: Int, k: Int, n: Int
    public let transposeA: Bool
    /// The direct call multiplies by a transposed copy of B, with B transposed in the call: the
    /// layout the layer had before it kept the weights' transpose.
    public let transposedBefore: Bool
    public let beta: Float
    public let blocking: GemmBlocking

    /// The products of one GRU step (batch 256, hidden 64) as the layer makes them: the step's
    /// input and recurrent projections, x·Wᵀ with W transposed in one call, are x·(Wᵀ)
    /// untransposed in blocks; the gradients reaching dh (beta 1) and dX (beta 0) are dG·W; the
    /// weight gradients accumulate dGᵀ·x. Then the transformer block's weight gradients over its
    /// 7,680 rows (256 × 30), dW += dYᵀ·X for the fused QKV (192 × 64) and the FFN's second layer
    /// (64 × 256), as Linear makes them: small-matrix calls in OpenBLAS's blocks of the inner
    /// dimension, the bits of one call.
    public static let all: [BlockedProduct] = [
        BlockedProduct(name: "gru_step_projection", m: 256, k: 64, n: 192, transposeA: false, transposedBefore: true, beta: 0, blocking: .smallCalls),
        BlockedProduct(name: "gru_step_state_gradient", m: 256, k: 192, n: 64, transposeA: false, transposedBefore: false, beta: 1, blocking: .smallCalls),
        BlockedProduct(name: "gru_step_input_gradient", m: 256, k: 192, n: 64, transposeA: false, transposedBefore: false, beta: 0, blocking: .smallCalls),
        BlockedProduct(name: "gru_step_weight_gradient", m: 192, k: 256, n: 64, transposeA: true, transposedBefore: false, beta: 1, blocking: .smallRowsOrInner),
        BlockedProduct(name: "block_qkv_weight_gradient", m: 192, k: 7680, n: 64, transposeA: true, transposedBefore: false, beta: 1, blocking: .smallCalls),
        BlockedProduct(name: "block_ffn_out_weight_gradient", m: 64, k: 7680, n: 256, transposeA: true, transposedBefore: false, beta: 1, blocking: .smallCalls),
    ]
}
