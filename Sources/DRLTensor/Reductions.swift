import CDRLKernels

// Reductions over all elements, over the last dimension ("row" reductions: one value per row of
// the tensor seen as a matrix) and over the leading dimensions ("column" reductions: one value
// per column, e.g. a bias gradient).

extension Tensor {
    /// Sum of all elements.
    public func sum() -> Float {
        let p = basePointer
        let n = count
        return withExtendedLifetime(self) {
            let threads = Engine.threadCount
            if threads <= 1 || n < 1 << 18 { return drl_sum(p, n) }
            // One partial sum per chunk, combined in chunk order (deterministic for a thread count).
            var partial: (Float, Float, Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0, 0, 0)
            let chunks = Swift.min(threads, 8)
            return withUnsafeMutableBytes(of: &partial) { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: Float.self)
                Parallel.forChunks(count: chunks, workPerItem: n) { r in
                    for c in r { out[c] = drl_sum(p + n * c / chunks, n * (c + 1) / chunks - n * c / chunks) }
                }
                var total: Float = 0
                for c in 0..<chunks { total += out[c] }
                return total
            }
        }
    }

    /// Mean of all elements (NaN for an empty tensor).
    public func mean() -> Float { sum() / Float(count) }

    /// Largest element; NaN if any element is NaN, -inf for an empty tensor.
    public func max() -> Float {
        withExtendedLifetime(self) { drl_max(basePointer, count) }
    }

    /// Flat index of the largest element (the first one on ties; NaN elements are skipped).
    /// Nil for an empty tensor or one holding only NaN.
    public func argmax() -> Int? {
        withUnsafeBufferPointer { argmaxIndex($0.baseAddress!, $0.count) }
    }
}

@inlinable
func argmaxIndex(_ p: UnsafePointer<Float>, _ n: Int) -> Int? {
    var best: Int? = nil
    var bestValue = -Float.infinity
    for i in 0..<n {
        let v = p[i]
        if v.isNaN { continue }
        if best == nil || v > bestValue { best = i; bestValue = v }
    }
    return best
}

/// out[r] = Σ_c x[r, c] for x seen as a [rows, cols] matrix.
public func rowSums(_ x: Tensor, into out: inout Tensor) {
    let (rows, cols) = x.shape.matrix
    precondition(out.count == rows, "rowSums: input \(x.shape) has \(rows) rows; output \(out.shape) differs")
    out.makeUnique()
    let px = x.basePointer, po = out.basePointer
    withExtendedLifetime(x) {
        Parallel.forChunks(count: rows, workPerItem: cols) { r in
            drl_row_sums(px + r.lowerBound * cols, po + r.lowerBound, r.count, cols)
        }
    }
}

/// out[r] = mean_c x[r, c].
public func rowMeans(_ x: Tensor, into out: inout Tensor) {
    rowSums(x, into: &out)
    out *= 1 / Float(x.shape.matrix.cols)
}

/// out[r] = max_c x[r, c] (NaN if the row holds NaN).
public func rowMaxes(_ x: Tensor, into out: inout Tensor) {
    let (rows, cols) = x.shape.matrix
    precondition(out.count == rows, "rowMaxes: input \(x.shape) has \(rows) rows; output \(out.shape) differs")
    out.makeUnique()
    let px = x.basePointer, po = out.basePointer
    withExtendedLifetime(x) {
        Parallel.forChunks(count: rows, workPerItem: cols) { r in
            drl_row_maxes(px + r.lowerBound * cols, po + r.lowerBound, r.count, cols)
        }
    }
}

/// out[r] = index of the largest x[r, c] (first on ties, NaN skipped; -1 for a row of only NaN).
public func rowArgmax(_ x: Tensor, into out: inout [Int32]) {
    let (rows, cols) = x.shape.matrix
    precondition(out.count == rows, "rowArgmax: input \(x.shape) has \(rows) rows; output has \(out.count)")
    let px = x.basePointer
    withExtendedLifetime(x) {
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { o[r] = Int32(argmaxIndex(px + r * cols, cols) ?? -1) }
        }
    }
}

/// out[c] = Σ_r x[r, c] (or out[c] += … with `accumulate: true`, for gradient accumulation).
public func columnSums(_ x: Tensor, into out: inout Tensor, accumulate: Bool = false) {
    let (rows, cols) = x.shape.matrix
    precondition(out.count == cols, "columnSums: input \(x.shape) has \(cols) columns; output \(out.shape) differs")
    out.makeUnique()
    let px = x.basePointer, po = out.basePointer
    withExtendedLifetime(x) {
        // Threads take disjoint blocks of columns, so no output element is written twice.
        let blocks = (cols + 63) / 64
        Parallel.forChunks(count: blocks, workPerItem: rows * 64) { r in
            let c0 = r.lowerBound * 64, c1 = Swift.min(cols, r.upperBound * 64)
            drl_column_sums(px + c0, po + c0, rows, c1 - c0, cols, accumulate ? 1 : 0)
        }
    }
}

/// out[c] = mean_r x[r, c].
public func columnMeans(_ x: Tensor, into out: inout Tensor) {
    columnSums(x, into: &out)
    out *= 1 / Float(x.shape.matrix.rows)
}
