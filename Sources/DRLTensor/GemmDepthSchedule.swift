import CBLASShim

/// The blocks of the inner dimension in which OpenBLAS's large (packing) GEMM kernel accumulates
/// a product, so that `gemm(…, blocking: .smallCalls)` can compute aᵀ·b in small-matrix calls
/// and still give the bits of one call.
///
/// OpenBLAS's single-threaded level-3 driver cuts K into blocks of `depth` (its GEMM_Q) and, for
/// a remainder between `depth` and 2·`depth`, into two halves rounded up to `unroll` (its
/// GEMM_UNROLL_M). Within a block each element of C is one sequential chain of multiply-adds,
/// then added to C; its small-matrix kernels do the same over the whole K of their call (both
/// measured on the Cooperlake kernel, bit for bit). So small calls, one per block of K, give the
/// same bits without the packing copies: 15-25% faster on the weight gradients of layers with
/// few outputs over thousands of rows (docs/BENCHMARKS.md).
///
/// The constants differ between OpenBLAS versions and kernels, so they are not assumed: `detected`
/// tries the known ones against one call on a probe product and keeps the one that matches bit for
/// bit. When none does, or the kernel has no small-matrix path, products stay whole.
struct GemmDepthSchedule: Equatable {
    let depth: Int
    let unroll: Int

    /// The length of the next block of K, with `remaining` steps of K left.
    func block(remaining: Int) -> Int {
        if remaining >= 2 * depth { return depth }
        if remaining > depth { return (remaining / 2 + unroll - 1) / unroll * unroll }
        return remaining
    }

    /// Outputs (elements of C) up to which small calls were faster than one call. Above, the large
    /// kernel's packing pays for itself (measured at 512 × 256 and larger: equal or slower).
    static let largestOutput = 32_768

    /// The schedule of the loaded kernel, or nil (see the type's comment).
    static let detected: GemmDepthSchedule? = {
        guard OpenBLASKernel.hasSmallMatrixKernels else { return nil }
        let candidates = [320, 448, 256, 384, 512, 640].flatMap { depth in [16, 8, 32].map { GemmDepthSchedule(depth: depth, unroll: $0) } }
        return candidates.first { $0.matchesOneCall() }
    }()

    /// Whether aᵀ·b accumulated into C in this schedule's blocks gives the bits of one OpenBLAS
    /// call, on a product large enough for the large kernel and long enough (2.5 blocks) to take
    /// both a whole block and the halved remainder.
    func matchesOneCall() -> Bool {
        let m = 64, n = 48, k = 2 * depth + depth / 2 + 5
        var state: UInt32 = 0x2545_F491
        func next() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 23) - 1
        }
        let a = (0..<(k * m)).map { _ in next() }, b = (0..<(k * n)).map { _ in next() }
        let c0 = (0..<(m * n)).map { _ in next() }
        var whole = c0, blocked = c0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                whole.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                a.baseAddress, Int32(m), b.baseAddress, Int32(n), 1, c.baseAddress, Int32(n))
                }
                blocked.withUnsafeMutableBufferPointer { c in
                    var task = GemmTask(a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!,
                                        lda: Int32(m), ldb: Int32(n), ldc: Int32(n), transposeA: true, transposeB: false,
                                        m: Int32(m), n: Int32(n), k: Int32(k), alpha: 1, beta: 1, bias: nil, splitColumns: false)
                    task.depthSchedule = self
                    task.run(0..<m)
                }
            }
        }
        return whole == blocked
    }
}

extension GemmTask {
    /// Rows `items` of C = aᵀ·b (alpha 1) in `schedule`'s blocks of K, each block cut into
    /// small-matrix calls over blocks of C of at most 64 columns; blocks after the first along K
    /// accumulate. All blocks of C take one block of K before the next, while it is in cache.
    func runInDepthBlocks(_ items: Range<Int>, _ schedule: GemmDepthSchedule) {
        let columns = min(Int(n), 64)
        var p = 0
        while p < Int(k) {
            let depth = schedule.block(remaining: Int(k) - p)
            let rows = max(16, GemmBlocking.smallProduct / (depth * columns) / 16 * 16)
            for r in stride(from: items.lowerBound, to: items.upperBound, by: rows) {
                let count = Int32(min(rows, items.upperBound - r))
                for j in stride(from: 0, to: Int(n), by: columns) {
                    let width = Int32(min(columns, Int(n) - j))
                    // op(a)[r, p] = a[p, r]; b[p, j]; c[r, j].
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, count, width, Int32(depth), 1,
                                a + p * Int(lda) + r, lda, b + p * Int(ldb) + j, ldb, p == 0 ? beta : 1,
                                c + r * Int(ldc) + j, ldc)
                }
            }
            p += depth
        }
    }
}
