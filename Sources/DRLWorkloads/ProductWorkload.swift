import CBLASShim
import DRLTensor

/// A matrix product measured two ways on the same operands: through DRLTensor into a preallocated
/// C, and as one direct `cblas_sgemm` call into a C of its own. `drlrec bench core` prints their
/// ratio; the benchmark package measures each alone.
public struct ProductWorkload {
    /// The name `drlrec bench core` prints.
    public let name: String
    public let m: Int, k: Int, n: Int
    /// The product through DRLTensor.
    public let viaTensor: () -> Void
    /// One `cblas_sgemm` call on OpenBLAS's own threads, as a program calling OpenBLAS would make
    /// it. OpenBLAS goes back to one thread after each call: DRLRec keeps it there and splits
    /// products over its own pool.
    public let direct: () -> Void

    /// Floating-point operations per call (2·M·N·K).
    public var flop: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// The GEMM shapes (M, K, N) of `matmul(m:k:n:directThreads:)`.
    public static let gemmShapes: [(m: Int, k: Int, n: Int)] = [
        (256, 256, 256), (512, 512, 512), (1024, 256, 256), (1024, 512, 1682), (1920, 64, 64),
    ]

    /// C = A·B through `matmul(_:_:into:)`, A and B uniform in [-1, 1) (seed 7); the direct call
    /// runs on `directThreads` OpenBLAS threads.
    public static func matmul(m: Int, k: Int, n: Int, directThreads: Int) -> ProductWorkload {
        var rng = RandomGenerator(seed: 7)
        let a = Tensor.uniform(Shape(m, k), -1, 1, using: &rng)
        let b = Tensor.uniform(Shape(k, n), -1, 1, using: &rng)
        var c = Tensor(zeros: Shape(m, n))
        return ProductWorkload(
            name: "matmul_\(m)x\(k)x\(n)", m: m, k: k, n: n,
            viaTensor: { DRLTensor.matmul(a, b, into: &c) },
            direct: directCall(a, transposeA: false, b, transposeB: false, m: m, k: k, n: n, beta: 0, threads: directThreads)
        )
    }

    /// `product` as its layer makes it, through `gemm(…, blocking:)`, A and B uniform in [-1, 1)
    /// (seed 13); the direct call is one `cblas_sgemm` on `directThreads` OpenBLAS threads, with B
    /// transposed in the call where the layer once made it so (`BlockedProduct.transposedBefore`).
    public static func blocked(_ product: BlockedProduct, directThreads: Int) -> ProductWorkload {
        let (m, k, n) = (product.m, product.k, product.n)
        var rng = RandomGenerator(seed: 13)
        let a = Tensor.uniform(product.transposeA ? Shape(k, m) : Shape(m, k), -1, 1, using: &rng)
        let b = Tensor.uniform(Shape(k, n), -1, 1, using: &rng)
        var before = b
        if product.transposedBefore {
            before = Tensor(zeros: Shape(n, k))
            transpose(b, into: &before)
        }
        var c = Tensor(zeros: Shape(m, n))
        return ProductWorkload(
            name: "\(product.name)_\(m)x\(k)x\(n)_blocks", m: m, k: k, n: n,
            viaTensor: { gemm(a, b, into: &c, transposeA: product.transposeA, beta: product.beta, blocking: product.blocking) },
            direct: directCall(a, transposeA: product.transposeA, before, transposeB: product.transposedBefore,
                               m: m, k: k, n: n, beta: product.beta, threads: directThreads)
        )
    }

    /// One `cblas_sgemm`, C[M, N] = op(A)·op(B) + beta·C, into a C of its own, on `threads`
    /// OpenBLAS threads. The call keeps its operands alive for the raw pointers it passes.
    private static func directCall(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool,
                                   m: Int, k: Int, n: Int, beta: Float, threads: Int) -> () -> Void {
        var raw = Tensor(zeros: Shape(m, n))
        let pa = a.withUnsafeBufferPointer { $0.baseAddress! }, pb = b.withUnsafeBufferPointer { $0.baseAddress! }
        let pc = raw.withUnsafeMutableBufferPointer { $0.baseAddress! }
        return { [raw] in
            withExtendedLifetime((a, b, raw)) {
                openblas_set_num_threads(Int32(threads))
                cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), 1, pa, Int32(transposeA ? m : k), pb, Int32(transposeB ? k : n),
                            beta, pc, Int32(n))
                openblas_set_num_threads(1)
            }
        }
    }
}
