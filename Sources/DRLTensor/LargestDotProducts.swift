import CDRLKernels

/// For each row i of a matrix A [n, d], given transposed as `rowsTransposed` [d, n]:
/// out[i] = max(0, max_j ⟨A[i], queries[j]⟩) over the rows of `queries` [q, d]. Each dot product
/// is one chain of fused multiply-adds in the order of d, as a GEMM kernel accumulates it, and the
/// maximum keeps an earlier value unless a later one is at least as large (a NaN product is never
/// taken). The similarity of every catalogue item to its closest item in a short list, without
/// the [n, q] product in memory: one pass over A, with no packing of it per call. A row's value
/// does not depend on how the rows are split over threads.
public func largestDotProducts(rowsTransposed: Tensor, queries: Tensor, into out: inout Tensor) {
    require(rowsTransposed.rank == 2 && queries.rank == 2, "largestDotProducts: matrices needed, got \(rowsTransposed.shape) and \(queries.shape)")
    let (d, n) = rowsTransposed.shape.matrix
    let (q, qd) = queries.shape.matrix
    require(qd == d, "largestDotProducts: queries \(queries.shape) have \(qd) columns; the rows have \(d) (\(rowsTransposed.shape) transposed)")
    require(out.count == n, "largestDotProducts: \(n) rows need \(n) outputs, got \(out.shape)")
    out.makeUnique()
    let task = LargestDotProductsTask(rows: rowsTransposed.basePointer, n: n, d: d, queries: queries.basePointer, q: q, out: out.basePointer)
    withExtendedLifetime((rowsTransposed, queries)) { Parallel.run(task, count: n, workPerItem: q * d) }
}

struct LargestDotProductsTask: ParallelTask {
    let rows: UnsafeMutablePointer<Float>, n: Int, d: Int
    let queries: UnsafeMutablePointer<Float>, q: Int
    let out: UnsafeMutablePointer<Float>

    func run(_ items: Range<Int>) {
        drl_max_dot_rows(rows + items.lowerBound, n, items.count, d, queries, q, out + items.lowerBound)
    }
}
