import CBLASShim

// BLAS level 1-3 wrappers over OpenBLAS. A tensor of rank >= 2 is used as a matrix of
// (product of its leading dimensions) x (last dimension); rank-1 tensors are vectors.

@inlinable
func blasInt(_ n: Int, _ what: @autoclosure () -> String) -> Int32 {
    require(n <= Int(Int32.max), "\(what()) = \(n) exceeds the 32-bit BLAS index range")
    return Int32(n)
}

/// `c = alpha * op(a) * op(b) + beta * c`, where op transposes when asked. With `beta: 1` the
/// product accumulates into `c`. Shapes: op(a) is [M, K], op(b) is [K, N], c holds M x N.
/// Large products are split into row (or column) blocks over DRLRec's threads, each block a
/// single-threaded OpenBLAS call (see `GemmTask`).
///
/// `blocking` other than `.whole` cuts the product into OpenBLAS calls small enough for its
/// small-matrix kernels (see `GemmBlocking`).
///
/// With a `bias` of N elements (and `beta` 0), `c = alpha * op(a) * op(b) + bias` in every row:
/// each thread fills its rows of `c` with the bias just before its product accumulates into them,
/// which rounds as a separate bias pass would and costs no pass of its own.
public func gemm(_ a: Tensor, _ b: Tensor, into c: inout Tensor, transposeA: Bool = false, transposeB: Bool = false,
                 alpha: Float = 1, beta: Float = 0, bias: Tensor? = nil, blocking: GemmBlocking = .whole) {
    require(a.rank >= 2 && b.rank >= 2 && c.rank >= 2,
            "gemm needs matrices; got shapes \(a.shape), \(b.shape) into \(c.shape)")
    let (ar, ac) = a.shape.matrix
    let (br, bc) = b.shape.matrix
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    require(k == kb, "gemm inner dimensions differ: op(a) is [\(m), \(k)] from \(a.shape)\(transposeA ? "ᵀ" : ""), op(b) is [\(kb), \(n)] from \(b.shape)\(transposeB ? "ᵀ" : "")")
    let (cr, cc) = c.shape.matrix
    require(cr == m && cc == n, "gemm output \(c.shape) should be [\(m), \(n)] for \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "")")
    if let bias {
        require(bias.count == n && beta == 0, "gemm: a bias needs \(n) elements (one per column of c) and beta 0; got \(bias.shape), beta \(beta)")
    }
    Engine.ensureConfigured()
    c.makeUnique()
    var task = GemmTask(a: a.basePointer, b: b.basePointer, c: c.basePointer,
                        lda: blasInt(max(ac, 1), "lda"), ldb: blasInt(max(bc, 1), "ldb"), ldc: blasInt(max(n, 1), "ldc"),
                        transposeA: transposeA, transposeB: transposeB,
                        m: blasInt(m, "gemm M"), n: blasInt(n, "gemm N"), k: blasInt(k, "gemm K"),
                        alpha: alpha, beta: bias == nil ? beta : 1, bias: bias?.basePointer,
                        splitColumns: m < 4 * Engine.threadCount && n > m)
    task.cut(blocking)
    // About 2·K·N flops per row (or 2·K·M per column); blocks below ~64^3 multiply-adds stay whole.
    let (items, workPerItem) = task.splitColumns ? (n, m * k / 4) : (m, n * k / 4)
    withExtendedLifetime((a, b, bias)) { Parallel.run(task, count: items, workPerItem: workPerItem) }
}

/// How `gemm` cuts a product into OpenBLAS calls. OpenBLAS's small-matrix kernels (SkylakeX,
/// Cooperlake, Sapphire Rapids) compute products of up to 10⁶ multiply-adds without packing the
/// operands; for the skinny products of recurrent layers and of Linear layers over many rows,
/// calls of that size measured 11-30% faster than one call on this machine's Cooperlake kernel
/// (docs/BENCHMARKS.md). Where the loaded kernel has no small-matrix path, or op(b) is
/// transposed (its small kernel measured slower than one call), a product is computed whole.
public enum GemmBlocking: Sendable, Equatable {
    /// One call per thread.
    case whole
    /// Small-matrix calls that give the bits of `.whole` (tested): blocks of C's rows for inner
    /// dimensions up to 256, and for aᵀ·b into a small C (alpha 1, beta 0 or 1: a weight
    /// gradient), OpenBLAS's own blocks of the inner dimension (`GemmDepthSchedule`).
    case smallCalls
    /// As `smallCalls`, except that aᵀ·b with an inner dimension longer than C's rows (a weight
    /// gradient over many rows) is cut along the inner dimension, the blocks accumulating. That
    /// is faster still, but it rounds differently from `.whole`.
    case smallRowsOrInner

    /// Multiply-adds up to which OpenBLAS's small-matrix kernels take a product (100³).
    static let smallProduct = 1_000_000

    /// The largest power of two, at least 16, whose multiple of `perUnit` fits a small-matrix call,
    /// or nil when none does or `perUnit`·`extent` is small enough already.
    static func largestBlock(_ perUnit: Int, of extent: Int) -> Int? {
        guard OpenBLASKernel.hasSmallMatrixKernels, perUnit * extent > smallProduct, perUnit > 0 else { return nil }
        let limit = smallProduct / perUnit
        return limit >= 16 ? 1 << (Int.bitWidth - 1 - limit.leadingZeroBitCount) : nil
    }
}

/// The rows of C per OpenBLAS call when `gemm(…, blocking: .smallCalls)` cuts a product of op(a)
/// [m, k] by an untransposed b [k, n], or nil when it computes the product whole.
public func smallBlockRows(m: Int, n: Int, k: Int) -> Int? {
    k <= 256 ? GemmBlocking.largestBlock(n * k, of: m) : nil
}

/// One GEMM cut into blocks of C's rows (or columns, for short wide products), each block a
/// single-threaded OpenBLAS call. OpenBLAS itself runs on one thread: DRLRec's pool is the only
/// one, so GEMMs and the other kernels never compete with a second pool's spinning threads, and
/// no call allocates (OpenBLAS's own threaded GEMM allocates its job array per call).
struct GemmTask: ParallelTask {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    let lda: Int32, ldb: Int32, ldc: Int32
    let transposeA: Bool, transposeB: Bool
    let m: Int32, n: Int32, k: Int32
    let alpha: Float, beta: Float
    /// Copied into every row of C before the product accumulates into it (`beta` is then 1).
    let bias: UnsafePointer<Float>?
    let splitColumns: Bool
    /// Rows of C, or steps of the inner dimension, per OpenBLAS call (0: all of them).
    var rowBlock = 0, innerBlock = 0
    /// For aᵀ·b: the blocks of the inner dimension in which a call OpenBLAS would compute with
    /// its large kernel is computed in small calls instead.
    var depthSchedule: GemmDepthSchedule?

    /// Chooses the OpenBLAS calls of `blocking` (see `GemmBlocking`) for this product.
    mutating func cut(_ blocking: GemmBlocking) {
        guard blocking != .whole && !transposeB && !splitColumns else { return }
        let (m, n, k) = (Int(self.m), Int(self.n), Int(self.k))
        if blocking == .smallRowsOrInner && transposeA && k > m {
            innerBlock = GemmBlocking.largestBlock(m * n, of: k) ?? 0
        } else if transposeA && alpha == 1 && (beta == 0 || beta == 1) && bias == nil
                    && m * n <= GemmDepthSchedule.largestOutput, let schedule = GemmDepthSchedule.detected {
            depthSchedule = schedule
        } else {
            rowBlock = smallBlockRows(m: m, n: n, k: k) ?? 0
        }
    }

    func run(_ items: Range<Int>) {
        if rowBlock > 0 || innerBlock > 0 { return runInBlocks(items) }
        let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
        let count = Int32(items.count), first = items.lowerBound
        // One row of C against more than 1,024 columns goes through sgemv: OpenBLAS 0.3.21's
        // one-row sgemm slows down 4-5× past about 1,100 columns (measured at K = 32 to 256:
        // 3.6 µs at 1,100 columns, 19 µs at 1,300), while sgemv streams op(b) once. Below that,
        // sgemm is up to 14% faster, and it keeps the results of narrower layers (the agents')
        // bit-identical to what they were.
        let oneRow = splitColumns ? m == 1 : count == 1
        let columns = splitColumns ? first..<(first + Int(count)) : 0..<Int(n)
        if let depthSchedule, !(oneRow && columns.count > 1_024), Int(count) * Int(n) * Int(k) > GemmBlocking.smallProduct {
            return runInDepthBlocks(items, depthSchedule)
        }
        fillBias(rows: splitColumns ? 0..<Int(m) : items, columns: columns)
        if oneRow && columns.count > 1_024 {
            let row = splitColumns ? 0 : first
            let x = transposeA ? a + row : a + row * Int(lda), incx = transposeA ? lda : 1
            let pb = transposeB ? b + columns.lowerBound * Int(ldb) : b + columns.lowerBound
            let y = c + row * Int(ldc) + columns.lowerBound
            if transposeB {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(columns.count), k, alpha, pb, ldb, x, incx, beta, y, 1)
            } else {
                cblas_sgemv(CblasRowMajor, CblasTrans, k, Int32(columns.count), alpha, pb, ldb, x, incx, beta, y, 1)
            }
            return
        }
        if splitColumns {
            // Columns c0..<c1 of op(b): column offset in b, or row offset when b is stored transposed.
            let pb = transposeB ? b + first * Int(ldb) : b + first
            cblas_sgemm(CblasRowMajor, ta, tb, m, count, k, alpha, a, lda, pb, ldb, beta, c + first, ldc)
        } else {
            // Rows r0..<r1 of op(a): row offset in a, or column offset when a is stored transposed.
            let pa = transposeA ? a + first : a + first * Int(lda)
            cblas_sgemm(CblasRowMajor, ta, tb, count, n, k, alpha, pa, lda, b, ldb, beta, c + first * Int(ldc), ldc)
        }
    }
}

extension GemmTask {
    /// Rows `items` of C (op(b) untransposed), in blocks of `rowBlock` rows and `innerBlock` steps
    /// of the inner dimension; blocks after the first along the inner dimension accumulate.
    func runInBlocks(_ items: Range<Int>) {
        let ta = transposeA ? CblasTrans : CblasNoTrans
        let rows = rowBlock > 0 ? rowBlock : items.count, inner = innerBlock > 0 ? innerBlock : Int(k)
        for r in stride(from: items.lowerBound, to: items.upperBound, by: rows) {
            let count = Int32(min(rows, items.upperBound - r))
            fillBias(rows: r..<(r + Int(count)), columns: 0..<Int(n))
            for p in stride(from: 0, to: Int(k), by: inner) {
                let depth = Int32(min(inner, Int(k) - p))
                // op(a)[r, p]: a[r, p], or a[p, r] when a is stored transposed; op(b)[p, 0] = b[p, 0].
                let pa = transposeA ? a + p * Int(lda) + r : a + r * Int(lda) + p
                cblas_sgemm(CblasRowMajor, ta, CblasNoTrans, count, n, depth, alpha, pa, lda, b + p * Int(ldb), ldb,
                            p == 0 ? beta : 1, c + r * Int(ldc), ldc)
            }
        }
    }

    /// Copies the bias, if any, into `rows` × `columns` of C.
    func fillBias(rows: Range<Int>, columns: Range<Int>) {
        guard let bias else { return }
        for r in rows { (c + r * Int(ldc) + columns.lowerBound).update(from: bias + columns.lowerBound, count: columns.count) }
    }
}

/// `b = aᵀ` for a matrix `a` [rows, cols] into `b` [cols, rows].
public func transpose(_ a: Tensor, into b: inout Tensor) {
    let (rows, cols) = a.shape.matrix
    require(b.shape.matrix == (cols, rows), "transpose: \(b.shape) cannot hold the transpose of \(a.shape)")
    b.makeUnique()
    withExtendedLifetime(a) {
        cblas_somatcopy(CblasRowMajor, CblasTrans, blasInt(rows, "rows"), blasInt(cols, "cols"), 1, a.basePointer, blasInt(max(cols, 1), "lda"),
                        b.basePointer, blasInt(max(rows, 1), "ldb"))
    }
}

/// `c = op(a) * op(b)` into an existing tensor (no allocation).
@inlinable
public func matmul(_ a: Tensor, _ b: Tensor, into c: inout Tensor, transposeA: Bool = false, transposeB: Bool = false) {
    gemm(a, b, into: &c, transposeA: transposeA, transposeB: transposeB)
}

/// `op(a) * op(b)` as a new tensor. Without transposition a tensor `a` of rank > 2 keeps its
/// leading dimensions: [B, T, K] x [K, N] gives [B, T, N].
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    require(a.rank >= 2 && b.rank >= 2, "matmul needs matrices; got shapes \(a.shape) and \(b.shape)")
    let m = transposeA ? a.shape.matrix.cols : a.shape.matrix.rows
    let n = transposeB ? b.shape.matrix.rows : b.shape.matrix.cols
    var outShape = Shape(m, n)
    if !transposeA && a.rank > 2 {
        outShape = a.shape
        outShape[-1] = n
    }
    var c = Tensor(zeros: outShape)
    gemm(a, b, into: &c, transposeA: transposeA, transposeB: transposeB)
    return c
}

/// Batched `c[i] = alpha * op(a[i]) * op(b[i]) + beta * c[i]` over the first axis. `b` may be a
/// single matrix shared by every batch item. The batch is split across threads.
public func batchedGemm(_ a: Tensor, _ b: Tensor, into c: inout Tensor, transposeA: Bool = false,
                        transposeB: Bool = false, alpha: Float = 1, beta: Float = 0) {
    require(a.rank == 3 && c.rank == 3 && (b.rank == 3 || b.rank == 2),
            "batchedGemm needs [batch, m, k] inputs; got \(a.shape), \(b.shape) into \(c.shape)")
    let batch = a.shape[0]
    require(c.shape[0] == batch && (b.rank == 2 || b.shape[0] == batch),
            "batchedGemm batch sizes differ: \(a.shape), \(b.shape), \(c.shape)")
    let m = transposeA ? a.shape[2] : a.shape[1]
    let k = transposeA ? a.shape[1] : a.shape[2]
    let bRows = b.shape[b.rank - 2], bCols = b.shape[b.rank - 1]
    let kb = transposeB ? bCols : bRows
    let n = transposeB ? bRows : bCols
    require(k == kb, "batchedGemm inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "")")
    require(c.shape[1] == m && c.shape[2] == n, "batchedGemm output \(c.shape) should be [\(batch), \(m), \(n)]")
    Engine.ensureConfigured()
    c.makeUnique()
    let task = BatchedGemmTask(
        a: a.basePointer, b: b.basePointer, c: c.basePointer,
        aStride: a.shape.rowStride, bStride: b.rank == 3 ? b.shape.rowStride : 0, cStride: c.shape.rowStride,
        lda: blasInt(max(a.shape[2], 1), "lda"), ldb: blasInt(max(bCols, 1), "ldb"), ldc: blasInt(max(n, 1), "ldc"),
        transA: transposeA ? CblasTrans : CblasNoTrans, transB: transposeB ? CblasTrans : CblasNoTrans,
        m: blasInt(m, "M"), n: blasInt(n, "N"), k: blasInt(k, "K"), alpha: alpha, beta: beta)
    withExtendedLifetime((a, b)) { Parallel.run(task, count: batch, workPerItem: m * n * k / 4) }
}

/// One single-threaded GEMM per batch item, for a range of items.
struct BatchedGemmTask: ParallelTask {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    let aStride: Int, bStride: Int, cStride: Int
    let lda: Int32, ldb: Int32, ldc: Int32
    let transA: CBLAS_TRANSPOSE, transB: CBLAS_TRANSPOSE
    let m: Int32, n: Int32, k: Int32
    let alpha: Float, beta: Float

    func run(_ items: Range<Int>) {
        for i in items {
            cblas_sgemm(CblasRowMajor, transA, transB, m, n, k, alpha, a + i * aStride, lda, b + i * bStride, ldb,
                        beta, c + i * cStride, ldc)
        }
    }
}

/// `y = alpha * op(a) * x + beta * y` with `a` a matrix and `x`, `y` vectors.
public func gemv(_ a: Tensor, _ x: Tensor, into y: inout Tensor, transposeA: Bool = false, alpha: Float = 1,
                 beta: Float = 0) {
    require(a.rank >= 2, "gemv needs a matrix; got \(a.shape)")
    let (rows, cols) = a.shape.matrix
    let (inLen, outLen) = transposeA ? (rows, cols) : (cols, rows)
    require(x.count == inLen && y.count == outLen,
            "gemv: \(a.shape)\(transposeA ? "ᵀ" : "") needs x of \(inLen) and y of \(outLen) elements; got \(x.shape) and \(y.shape)")
    Engine.ensureConfigured()
    y.makeUnique()
    cblas_sgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, blasInt(rows, "rows"), blasInt(cols, "cols"),
                alpha, a.basePointer, Int32(max(cols, 1)), x.basePointer, 1, beta, y.basePointer, 1)
}

/// `y += alpha * x` over all elements.
@inlinable
public func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
    require(x.count == y.count, "axpy: x of shape \(x.shape) and y of shape \(y.shape) differ in size")
    Engine.ensureConfigured()
    y.makeUnique()
    cblas_saxpy(blasInt(x.count, "axpy n"), alpha, x.basePointer, 1, y.basePointer, 1)
}

/// `x *= alpha` over all elements.
@inlinable
public func scal(_ alpha: Float, _ x: inout Tensor) {
    Engine.ensureConfigured()
    x.makeUnique()
    cblas_sscal(blasInt(x.count, "scal n"), alpha, x.basePointer, 1)
}

/// Sum of `x[i] * y[i]` over all elements.
@inlinable
public func dot(_ x: Tensor, _ y: Tensor) -> Float {
    require(x.count == y.count, "dot: shapes \(x.shape) and \(y.shape) differ in size")
    Engine.ensureConfigured()
    return cblas_sdot(blasInt(x.count, "dot n"), x.basePointer, 1, y.basePointer, 1)
}

/// Euclidean norm over all elements (computed without overflow).
@inlinable
public func nrm2(_ x: Tensor) -> Float {
    Engine.ensureConfigured()
    return cblas_snrm2(blasInt(x.count, "nrm2 n"), x.basePointer, 1)
}

/// Where the matrices of a two-level batch live inside a tensor: matrix (o, i) starts at
/// `offset + o·outerStride + i·innerStride` and its rows are `leadingDimension` elements apart.
/// Attention uses it to multiply per-head blocks in place inside [batch, time, features] tensors,
/// with no split or merge copies.
public struct MatrixBatchLayout: Sendable {
    public var offset: Int, leadingDimension: Int, outerStride: Int, innerStride: Int

    public init(offset: Int = 0, leadingDimension: Int, outerStride: Int, innerStride: Int) {
        self.offset = offset
        self.leadingDimension = leadingDimension
        self.outerStride = outerStride
        self.innerStride = innerStride
    }

    /// One past the last element touched by `outer × inner` matrices of `rows × cols`.
    func extent(outer: Int, inner: Int, rows: Int, cols: Int) -> Int {
        offset + (outer - 1) * outerStride + (inner - 1) * innerStride + (rows - 1) * leadingDimension + cols
    }
}

/// C(o, i) = alpha·op(A(o, i))·op(B(o, i)) + beta·C(o, i) for every o < outer, i < inner, with
/// op(A) [m, k], op(B) [k, n] and C [m, n] read in place through their layouts. The batch is split
/// across threads; each product is a single-threaded OpenBLAS call.
public func batchedGemm(_ a: Tensor, _ aLayout: MatrixBatchLayout, _ b: Tensor, _ bLayout: MatrixBatchLayout,
                        into c: inout Tensor, _ cLayout: MatrixBatchLayout, m: Int, n: Int, k: Int, outer: Int, inner: Int,
                        transposeA: Bool = false, transposeB: Bool = false, alpha: Float = 1, beta: Float = 0) {
    require(m > 0 && n > 0 && k > 0 && outer > 0 && inner > 0, "batchedGemm: empty product m \(m) n \(n) k \(k) × \(outer)·\(inner)")
    let (aRows, aCols) = transposeA ? (k, m) : (m, k), (bRows, bCols) = transposeB ? (n, k) : (k, n)
    require(aLayout.leadingDimension >= aCols && bLayout.leadingDimension >= bCols && cLayout.leadingDimension >= n,
            "batchedGemm: a leading dimension is smaller than its row")
    require(aLayout.extent(outer: outer, inner: inner, rows: aRows, cols: aCols) <= a.count
            && bLayout.extent(outer: outer, inner: inner, rows: bRows, cols: bCols) <= b.count
            && cLayout.extent(outer: outer, inner: inner, rows: m, cols: n) <= c.count,
            "batchedGemm: the layouts reach past tensors \(a.shape), \(b.shape), \(c.shape)")
    Engine.ensureConfigured()
    c.makeUnique()
    let task = LayoutGemmTask(a: a.basePointer, aLayout: aLayout, b: b.basePointer, bLayout: bLayout, c: c.basePointer,
                              cLayout: cLayout, inner: inner, transA: transposeA ? CblasTrans : CblasNoTrans,
                              transB: transposeB ? CblasTrans : CblasNoTrans, m: Int32(m), n: Int32(n), k: Int32(k),
                              alpha: alpha, beta: beta)
    withExtendedLifetime((a, b)) { Parallel.run(task, count: outer * inner, workPerItem: m * n * k / 4) }
}

struct LayoutGemmTask: ParallelTask {
    let a: UnsafePointer<Float>, aLayout: MatrixBatchLayout, b: UnsafePointer<Float>, bLayout: MatrixBatchLayout
    let c: UnsafeMutablePointer<Float>, cLayout: MatrixBatchLayout, inner: Int
    let transA: CBLAS_TRANSPOSE, transB: CBLAS_TRANSPOSE
    let m: Int32, n: Int32, k: Int32, alpha: Float, beta: Float

    func run(_ items: Range<Int>) {
        for item in items {
            let (o, i) = (item / inner, item % inner)
            cblas_sgemm(CblasRowMajor, transA, transB, m, n, k, alpha,
                        a + aLayout.offset + o * aLayout.outerStride + i * aLayout.innerStride, Int32(aLayout.leadingDimension),
                        b + bLayout.offset + o * bLayout.outerStride + i * bLayout.innerStride, Int32(bLayout.leadingDimension),
                        beta, c + cLayout.offset + o * cLayout.outerStride + i * cLayout.innerStride, Int32(cLayout.leadingDimension))
        }
    }
}
