import CDRLKernels

// Row gather and scatter-add by index: the forward and backward passes of an embedding lookup.

@inline(__always)
func checkIndex(_ index: Int32, at position: Int, rows: Int, _ name: StaticString) {
    require(index >= 0 && Int(index) < rows,
            "\(name): index \(index) at position \(position) is out of range for a table of \(rows) rows")
}

/// out[i] = table[indices[i]] for every index: table [V, D...] and out [N, D...] with N = indices.count.
public func gatherRows(_ table: Tensor, indices: [Int32], into out: inout Tensor) {
    indices.withUnsafeBufferPointer { gatherRows(table, indices: $0, into: &out) }
}

/// `gatherRows` of a slice's indices (no copy of them into an array).
public func gatherRows(_ table: Tensor, indices: ArraySlice<Int32>, into out: inout Tensor) {
    indices.withUnsafeBufferPointer { gatherRows(table, indices: $0, into: &out) }
}

/// The first `count` of `items`' rows of a [V, D] table both as rows and transposed: rows[j, k] =
/// columns[k, j] = table[items[j], k], in the first count·D elements of `rows` ([count, D]) and of
/// `columns` ([D, count]). The rows are read once, the next ones prefetched: a few hundred rows
/// scattered over a table larger than the cache cost their memory latency, not their copies.
public func gatherRowsAndColumns(_ table: Tensor, items: [Int32], count: Int, rows: inout Tensor, columns: inout Tensor) {
    require(table.rank == 2 && count >= 0 && count <= items.count && rows.count >= count * table.shape[1] && columns.count >= count * table.shape[1],
            "gatherRowsAndColumns: \(count) rows of \(table.shape) from \(items.count) items into \(rows.shape) and \(columns.shape)")
    let (n, d) = table.shape.matrix
    guard count > 0 else { return }
    rows.makeUnique()
    columns.makeUnique()
    let (pt, pr, pc) = (table.basePointer, rows.basePointer, columns.basePointer)
    withExtendedLifetime(table) {
        items.withUnsafeBufferPointer { ix in
            for j in 0..<count { checkIndex(ix[j], at: j, rows: n, "gatherRowsAndColumns") }
            drl_gather_rows_and_columns(pt, d, ix.baseAddress!, count, pr, pc)
        }
    }
}

/// out[j] = Σₖ table[items[j], k]·vector[k] for j < count, into the first `count` elements of
/// `out`: the dot product of `vector` with each listed row, read where the row is (no gathered
/// copy), each a sum in the order of k of separately rounded products (a plain loop's result,
/// on every CPU). Eight rows go at once and the next ones are prefetched.
public func dotProductsOfRows(_ table: Tensor, items: [Int32], count: Int, vector: Tensor, into out: inout Tensor) {
    require(table.rank == 2 && vector.count == table.shape[1] && count >= 0 && count <= items.count && out.count >= count,
            "dotProductsOfRows: \(count) rows of \(table.shape) from \(items.count) items with a vector \(vector.shape) into \(out.shape)")
    let (n, d) = table.shape.matrix
    guard count > 0 else { return }
    out.makeUnique()
    let (pt, px, po) = (table.basePointer, vector.basePointer, out.basePointer)
    withExtendedLifetime((table, vector)) {
        items.withUnsafeBufferPointer { ix in
            for j in 0..<count { checkIndex(ix[j], at: j, rows: n, "dotProductsOfRows") }
            drl_dot_rows_at(pt, d, ix.baseAddress!, count, px, po)
        }
    }
}

private func gatherRows(_ table: Tensor, indices ix: UnsafeBufferPointer<Int32>, into out: inout Tensor) {
    require(table.rank >= 1 && out.rank >= 1 && out.shape[0] == ix.count
            && out.shape.rowStride == table.shape.rowStride,
            "gatherRows: \(ix.count) rows of \(table.shape) do not fit output \(out.shape)")
    guard ix.count > 0 else { return }
    let rows = table.shape[0], width = table.shape.rowStride
    out.makeUnique()
    let (pt, po) = (table.basePointer, out.basePointer)
    withExtendedLifetime(table) {
        for i in 0..<ix.count { checkIndex(ix[i], at: i, rows: rows, "gatherRows") }
        let task = GatherTask(table: pt, indices: ix.baseAddress!, out: po, width: width)
        Parallel.run(task, count: ix.count, workPerItem: width)
    }
}

/// Copies the indexed table rows for a range of output rows.
struct GatherTask: ParallelTask {
    let table: UnsafePointer<Float>, indices: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>, width: Int

    func run(_ items: Range<Int>) {
        for i in items { (out + i * width).update(from: table + Int(indices[i]) * width, count: width) }
    }
}

/// table[indices[i]] += source[i] for every index (repeated indices accumulate). Entries equal to
/// `paddingIndex` are skipped, so a padding row gets no gradient.
public func scatterAddRows(_ source: Tensor, indices: [Int32], into table: inout Tensor, paddingIndex: Int32? = nil) {
    require(source.rank >= 1 && table.rank >= 1 && source.shape[0] == indices.count
            && source.shape.rowStride == table.shape.rowStride,
            "scatterAddRows: source \(source.shape) with \(indices.count) indices does not fit table \(table.shape)")
    let rows = table.shape[0], width = table.shape.rowStride
    table.makeUnique()
    let ps = source.basePointer, pt = table.basePointer
    let padding = paddingIndex ?? -1
    withExtendedLifetime(source) {
        indices.withUnsafeBufferPointer { ix in
            for i in 0..<ix.count where ix[i] != padding { checkIndex(ix[i], at: i, rows: rows, "scatterAddRows") }
            let task = ScatterAddTask(source: ps, indices: ix.baseAddress!, count: ix.count, table: pt, width: width,
                                      padding: padding)
            let blocks = (width + ScatterAddTask.blockWidth - 1) / ScatterAddTask.blockWidth
            Parallel.run(task, count: blocks, workPerItem: ix.count * ScatterAddTask.blockWidth)
        }
    }
}

/// Adds source rows into the indexed table rows, for a range of 16-column blocks: threads split the
/// feature columns, so repeated indices never race.
struct ScatterAddTask: ParallelTask {
    static let blockWidth = 16
    let source: UnsafePointer<Float>, indices: UnsafePointer<Int32>, count: Int
    let table: UnsafeMutablePointer<Float>, width: Int, padding: Int32

    func run(_ blocks: Range<Int>) {
        let c0 = blocks.lowerBound * Self.blockWidth, c1 = Swift.min(width, blocks.upperBound * Self.blockWidth)
        for i in 0..<count where indices[i] != padding {
            let src = source + i * width, dst = table + Int(indices[i]) * width
            for c in c0..<c1 { dst[c] += src[c] }
        }
    }
}
