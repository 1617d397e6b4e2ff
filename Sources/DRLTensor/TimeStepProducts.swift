import CBLASShim

// Products with one time step of a batch-first sequence [B, T, F], whose rows for that step are
// T·F floats apart, read or written in place. A recurrent layer does its step's products while
// the step's gate gradients and projections are in cache: gathered over all steps into one
// product, they would be B·T·(gates·H) floats written out to memory and read back. Each element
// is the same dot product, bit for bit, as in one product over all rows, except that `dw`
// accumulates step by step.

/// `output` [B, G] = x[:, step, :]·w for x [B, T, F] and w [F, G].
public func projectTimeStep(_ x: Tensor, step: Int, _ w: Tensor, into output: inout Tensor) {
    let (batch, time, features) = sequenceShape(x, step: step, "projectTimeStep")
    let outputs = w.shape.matrix.cols
    precondition(w.shape.matrix.rows == features && output.shape == Shape(batch, outputs),
                 "projectTimeStep: step \(step) of \(x.shape) by \(w.shape) does not fit \(output.shape)")
    output.makeUnique()
    withExtendedLifetime((x, w)) {
        runTimeStepProduct(a: x.basePointer + step * features, lda: time * features, transposeA: false, b: w.basePointer,
                           ldb: outputs, c: output.basePointer, ldc: outputs, m: batch, n: outputs, k: features, beta: 0)
    }
}

/// y[:, step, :] = a·w for a [B, K], w [K, F] and y [B, T, F]; the other steps of y are untouched.
public func projectIntoTimeStep(_ a: Tensor, _ w: Tensor, into y: inout Tensor, step: Int) {
    let (batch, time, features) = sequenceShape(y, step: step, "projectIntoTimeStep")
    let inner = w.shape.matrix.rows
    precondition(a.shape == Shape(batch, inner) && w.shape.matrix.cols == features,
                 "projectIntoTimeStep: \(a.shape) by \(w.shape) does not fit step \(step) of \(y.shape)")
    y.makeUnique()
    withExtendedLifetime((a, w)) {
        runTimeStepProduct(a: a.basePointer, lda: inner, transposeA: false, b: w.basePointer, ldb: features,
                           c: y.basePointer + step * features, ldc: time * features, m: batch, n: features, k: inner, beta: 0)
    }
}

/// dw [G, F] += gᵀ·x[:, step, :] for g [B, G] and x [B, T, F]: a weight gradient, one step's share.
public func accumulateTimeStepGradient(_ g: Tensor, _ x: Tensor, step: Int, into dw: inout Tensor) {
    let (batch, time, features) = sequenceShape(x, step: step, "accumulateTimeStepGradient")
    let outputs = g.shape.matrix.cols
    precondition(g.shape == Shape(batch, outputs) && dw.shape.matrix == (outputs, features),
                 "accumulateTimeStepGradient: \(g.shape)ᵀ by step \(step) of \(x.shape) does not fit \(dw.shape)")
    dw.makeUnique()
    withExtendedLifetime((g, x)) {
        runTimeStepProduct(a: g.basePointer, lda: outputs, transposeA: true, b: x.basePointer + step * features,
                           ldb: time * features, c: dw.basePointer, ldc: features, m: outputs, n: features, k: batch, beta: 1)
    }
}

private func sequenceShape(_ x: Tensor, step: Int, _ caller: String) -> (Int, Int, Int) {
    precondition(x.rank == 3 && step >= 0 && step < x.shape[1], "\(caller): step \(step) of \(x.shape), which should be [batch, time, features]")
    return (x.shape[0], x.shape[1], x.shape[2])
}

/// C = op(a)·b + beta·C in OpenBLAS's small-matrix blocks (as `gemm(…, blocking: .smallRowsOrInner)`),
/// split by rows of C over the threads.
private func runTimeStepProduct(a: UnsafePointer<Float>, lda: Int, transposeA: Bool, b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, beta: Float) {
    Engine.ensureConfigured()
    var task = GemmTask(a: a, b: b, c: c, lda: blasInt(max(lda, 1), "lda"), ldb: blasInt(max(ldb, 1), "ldb"),
                        ldc: blasInt(max(ldc, 1), "ldc"), transposeA: transposeA, transposeB: false,
                        m: blasInt(m, "gemm M"), n: blasInt(n, "gemm N"), k: blasInt(k, "gemm K"),
                        alpha: 1, beta: beta, bias: nil, splitColumns: false)
    if transposeA && k > m {
        task.innerBlock = GemmBlocking.largestBlock(m * n, of: k) ?? 0
    } else {
        task.rowBlock = smallBlockRows(m: m, n: n, k: k) ?? 0
    }
    Parallel.run(task, count: m, workPerItem: n * k / 4)
}
