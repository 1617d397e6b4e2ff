import CDRLKernels

// Reductions over all elements, over the last dimension ("row" reductions: one value per row of
// the tensor seen as a matrix) and over the leading dimensions ("column" reductions: one value
// per column, e.g. a bias gradient).

/// Partial sums of `chunks` equal slices of x, one per output slot.
struct PartialSumTask: ParallelTask {
    let x: UnsafePointer<Float>, count: Int, chunks: Int
    let partials: UnsafeMutablePointer<Float>

    func run(_ slices: Range<Int>) {
        for c in slices {
            let start = count * c / chunks, end = count * (c + 1) / chunks
            partials[c] = drl_sum(x + start, end - start)
        }
    }
}

enum RowReduction {
    case sum, max
}

/// One value per row for a range of rows.
struct RowReductionTask: ParallelTask {
    let reduction: RowReduction
    let x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, cols: Int

    func run(_ rows: Range<Int>) {
        let px = x + rows.lowerBound * cols, po = out + rows.lowerBound
        switch reduction {
        case .sum: drl_row_sums(px, po, rows.count, cols)
        case .max: drl_row_maxes(px, po, rows.count, cols)
        }
    }
}

/// Column sums for a range of 64-column blocks (threads never write the same output element).
struct ColumnSumTask: ParallelTask {
    let x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, accumulate: Bool
    let blockWidth: Int

    func run(_ blocks: Range<Int>) {
        let c0 = blocks.lowerBound * blockWidth, c1 = Swift.min(cols, blocks.upperBound * blockWidth)
        drl_column_sums(x + c0, out + c0, rows, c1 - c0, cols, accumulate ? 1 : 0)
    }
}

extension Tensor {
    /// Sum of all elements. Large tensors are summed in per-thread slices whose partial sums are
    /// added in slice order.
    public func sum() -> Float {
        let n = count
        let chunks = Swift.min(Engine.threadCount, 8)
        if chunks <= 1 || n < 1 << 18 { return withExtendedLifetime(self) { drl_sum(basePointer, n) } }
        var partials: (Float, Float, Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &partials) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            let task = PartialSumTask(x: basePointer, count: n, chunks: chunks, partials: out)
            withExtendedLifetime(self) { Parallel.run(task, count: chunks, workPerItem: n / chunks) }
            var total: Float = 0
            for c in 0..<chunks { total += out[c] }
            return total
        }
    }

    /// Flat index of the first NaN or infinite element, or nil when every element is finite.
    public func firstNonFiniteIndex() -> Int? {
        let i = withExtendedLifetime(self) { drl_first_nonfinite(basePointer, count) }
        return i < 0 ? nil : i
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

func runRowReduction(_ reduction: RowReduction, _ x: Tensor, into out: inout Tensor, _ name: StaticString) {
    let (rows, cols) = x.shape.matrix
    require(out.count == rows, "\(name): input \(x.shape) has \(rows) rows; output \(out.shape) differs")
    out.makeUnique()
    let task = RowReductionTask(reduction: reduction, x: x.basePointer, out: out.basePointer, cols: cols)
    withExtendedLifetime(x) { Parallel.run(task, count: rows, workPerItem: cols) }
}

/// out[r] = Σ_c x[r, c] for x seen as a [rows, cols] matrix.
public func rowSums(_ x: Tensor, into out: inout Tensor) { runRowReduction(.sum, x, into: &out, "rowSums") }

/// out[r] = mean_c x[r, c].
public func rowMeans(_ x: Tensor, into out: inout Tensor) {
    rowSums(x, into: &out)
    out *= 1 / Float(x.shape.matrix.cols)
}

/// out[r] = max_c x[r, c] (NaN if the row holds NaN).
public func rowMaxes(_ x: Tensor, into out: inout Tensor) { runRowReduction(.max, x, into: &out, "rowMaxes") }

/// out[r] = index of the largest x[r, c] (first on ties, NaN skipped; -1 for a row of only NaN).
public func rowArgmax(_ x: Tensor, into out: inout [Int32]) {
    let (rows, cols) = x.shape.matrix
    require(out.count == rows, "rowArgmax: input \(x.shape) has \(rows) rows; output has \(out.count)")
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
    require(out.count == cols, "columnSums: input \(x.shape) has \(cols) columns; output \(out.shape) differs")
    out.makeUnique()
    let width = columnBlockWidth(columns: cols)
    let task = ColumnSumTask(x: x.basePointer, out: out.basePointer, rows: rows, cols: cols, accumulate: accumulate,
                             blockWidth: width)
    withExtendedLifetime(x) { Parallel.run(task, count: (cols + width - 1) / width, workPerItem: rows * width) }
}

/// Columns per block when a reduction over rows is split by columns over the threads: 64 (four
/// cache lines of each row), or fewer, down to one 16-float vector, where 64 would leave a thread
/// without a block. Each column is still summed over the rows in order, whatever the width.
func columnBlockWidth(columns: Int) -> Int {
    let perThread = (columns + Engine.threadCount - 1) / Engine.threadCount
    return min(64, max(16, (perThread + 15) / 16 * 16))
}

/// out[c] = mean_r x[r, c].
public func columnMeans(_ x: Tensor, into out: inout Tensor) {
    columnSums(x, into: &out)
    out *= 1 / Float(x.shape.matrix.rows)
}
