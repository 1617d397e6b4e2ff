// Row gather and scatter-add by index: the forward and backward passes of an embedding lookup.

@inline(__always)
func checkIndex(_ index: Int32, at position: Int, rows: Int, _ name: StaticString) {
    precondition(index >= 0 && Int(index) < rows,
                 "\(name): index \(index) at position \(position) is out of range for a table of \(rows) rows")
}

/// out[i] = table[indices[i]] for every index: table [V, D...] and out [N, D...] with N = indices.count.
public func gatherRows(_ table: Tensor, indices: [Int32], into out: inout Tensor) {
    precondition(table.rank >= 1 && out.rank >= 1 && out.shape[0] == indices.count
                 && out.shape.rowStride == table.shape.rowStride,
                 "gatherRows: \(indices.count) rows of \(table.shape) do not fit output \(out.shape)")
    let rows = table.shape[0], width = table.shape.rowStride
    out.makeUnique()
    let pt = table.basePointer, po = out.basePointer
    withExtendedLifetime(table) {
        indices.withUnsafeBufferPointer { ix in
            Parallel.forChunks(count: ix.count, workPerItem: width) { r in
                for i in r {
                    checkIndex(ix[i], at: i, rows: rows, "gatherRows")
                    (po + i * width).update(from: pt + Int(ix[i]) * width, count: width)
                }
            }
        }
    }
}

/// table[indices[i]] += source[i] for every index (repeated indices accumulate). Entries equal to
/// `paddingIndex` are skipped, so a padding row gets no gradient.
public func scatterAddRows(_ source: Tensor, indices: [Int32], into table: inout Tensor, paddingIndex: Int32? = nil) {
    precondition(source.rank >= 1 && table.rank >= 1 && source.shape[0] == indices.count
                 && source.shape.rowStride == table.shape.rowStride,
                 "scatterAddRows: source \(source.shape) with \(indices.count) indices does not fit table \(table.shape)")
    let rows = table.shape[0], width = table.shape.rowStride
    table.makeUnique()
    let ps = source.basePointer, pt = table.basePointer
    let padding = paddingIndex ?? -1
    withExtendedLifetime(source) {
        indices.withUnsafeBufferPointer { ix in
            for i in 0..<ix.count { if ix[i] != padding { checkIndex(ix[i], at: i, rows: rows, "scatterAddRows") } }
            // Threads split the feature columns, so repeated indices never race.
            let blocks = (width + 15) / 16
            Parallel.forChunks(count: blocks, workPerItem: ix.count * 16) { r in
                let c0 = r.lowerBound * 16, c1 = Swift.min(width, r.upperBound * 16)
                for i in 0..<ix.count where ix[i] != padding {
                    let src = ps + i * width, dst = pt + Int(ix[i]) * width
                    for c in c0..<c1 { dst[c] += src[c] }
                }
            }
        }
    }
}
