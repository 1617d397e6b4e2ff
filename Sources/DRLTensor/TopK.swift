import CDRLKernels

// Top-k selection along the last dimension by a bounded heap: O(n log k) per row, no full sort,
// no allocation (the heap lives in the output buffers). Results are ordered best first; ties go to
// the lower index; NaN ranks below every number.

/// For each row of `x` (seen as [rows, cols]), the k largest values and their column indices,
/// best first: `values` is [rows, k] (any shape with rows·k elements) and `indices` holds rows·k
/// entries.
public func topK(_ x: Tensor, k: Int, values: inout Tensor, indices: inout [Int32]) {
    let (rows, cols) = x.shape.matrix
    require(k >= 0 && k <= cols, "topK: k = \(k) must be in 0...\(cols) for input \(x.shape)")
    require(values.count == rows * k && indices.count == rows * k,
            "topK: outputs need \(rows * k) elements for input \(x.shape) and k = \(k); got values \(values.shape) and \(indices.count) indices")
    guard k > 0 else { return }
    values.makeUnique()
    let (px, pv) = (x.basePointer, values.basePointer)
    withExtendedLifetime(x) {
        indices.withUnsafeMutableBufferPointer { pi in
            let task = TopKTask(x: px, cols: cols, k: k, values: pv, indices: pi.baseAddress!)
            Parallel.run(task, count: rows, workPerItem: cols * 2)
        }
    }
}

/// Top-k selection for a range of rows.
struct TopKTask: ParallelTask {
    let x: UnsafeMutablePointer<Float>, cols: Int, k: Int
    let values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>

    func run(_ rows: Range<Int>) {
        for row in rows { selectTopK(x + row * cols, cols, k, values + row * k, indices + row * k) }
    }
}

/// Allocating convenience: ([rows, k] values, rows·k indices).
public func topK(_ x: Tensor, k: Int) -> (values: Tensor, indices: [Int32]) {
    let rows = x.shape.matrix.rows
    var values = Tensor(zeros: Shape(rows, k))
    var indices = [Int32](repeating: 0, count: rows * k)
    topK(x, k: k, values: &values, indices: &indices)
    return (values, indices)
}

/// True when (a, ia) ranks before (b, ib).
@inline(__always)
func ranksBefore(_ a: Float, _ ia: Int32, _ b: Float, _ ib: Int32) -> Bool {
    if a.isNaN { return b.isNaN && ia < ib }
    if b.isNaN { return true }
    return a > b || (a == b && ia < ib)
}

/// Min-heap (worst entry at the root) of size k over one row, then heap-sorted best first. On a
/// long row the heap only sees the values at least as large as a threshold that at least k values
/// reach (`sampledThreshold`); the others cannot be among the k best.
func selectTopK(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ k: Int, _ v: UnsafeMutablePointer<Float>,
                _ idx: UnsafeMutablePointer<Int32>) {
    func siftDown(_ start: Int, _ size: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var worst = i
            if l < size && ranksBefore(v[worst], idx[worst], v[l], idx[l]) { worst = l }
            if r < size && ranksBefore(v[worst], idx[worst], v[r], idx[r]) { worst = r }
            if worst == i { return }
            v.swapAt(i, worst)
            idx.swapAt(i, worst)
            i = worst
        }
    }
    // The heap starts with the first k values at least as large as the threshold (the first k
    // values without one). Below-threshold values are skipped a vector at a time.
    var i = 0, filled = 0
    if let threshold = sampledThreshold(x, n, k, v, idx, siftDown) {
        let below = threshold.nextDown
        while filled < k && i < n {
            i += drl_first_greater(x + i, n - i, below)
            guard i < n else { break }
            v[filled] = x[i]
            idx[filled] = Int32(i)
            filled += 1
            i += 1
        }
        // Fewer than k reach it (the sample misled): start again without one.
        if filled < k { (i, filled) = (0, 0) }
    }
    if filled == 0 {
        for j in 0..<k {
            v[j] = x[j]
            idx[j] = Int32(j)
        }
        i = k
    }
    for j in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(j, k) }
    while i < n {
        // Most values cannot enter the heap: skip them a vector at a time. A value after the
        // heap's first k enters exactly when it is greater than the worst kept one, if that is a
        // number: a tie loses on its (larger) index, and NaN beats no number.
        let worst = v[0]
        if !worst.isNaN {
            i += drl_first_greater(x + i, n - i, worst)
            guard i < n else { break }
        }
        if ranksBefore(x[i], Int32(i), v[0], idx[0]) {
            v[0] = x[i]
            idx[0] = Int32(i)
            siftDown(0, k)
        }
        i += 1
    }
    // Heap sort: moving the worst entry to the end each time leaves the row best first.
    var size = k
    while size > 1 {
        size -= 1
        v.swapAt(0, size)
        idx.swapAt(0, size)
        siftDown(0, size)
    }
}

/// For a row much longer than k, a value that about 2k of the row's values reach: the r-th largest
/// of 4k evenly spaced samples, r = 2k·(samples / n), found with the output buffers as a heap of r.
/// Nil for short rows, small k, or a threshold that is not a finite number (a NaN or infinite
/// sample there). The caller checks that k values really reach it.
private func sampledThreshold(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ k: Int, _ v: UnsafeMutablePointer<Float>,
                              _ idx: UnsafeMutablePointer<Int32>, _ siftDown: (Int, Int) -> Void) -> Float? {
    guard k >= 32 && n >= 16 * k else { return nil }
    let stride = n / (4 * k), samples = n / stride
    let r = max(1, 2 * k * samples / n)
    for j in 0..<r {
        v[j] = x[j * stride]
        idx[j] = Int32(j * stride)
    }
    for j in Swift.stride(from: r / 2 - 1, through: 0, by: -1) { siftDown(j, r) }
    for j in r..<samples where ranksBefore(x[j * stride], Int32(j * stride), v[0], idx[0]) {
        v[0] = x[j * stride]
        idx[0] = Int32(j * stride)
        siftDown(0, r)
    }
    return v[0].isFinite ? v[0] : nil
}

extension UnsafeMutablePointer {
    @inline(__always)
    func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
