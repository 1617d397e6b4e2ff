import CDRLKernels

// Products with one time step of a batch-first sequence [B, T, F], whose rows for that step are
// T·F floats apart, read or written in place. A recurrent layer does its step's products while
// the step's projections and gate gradients are in cache: gathered over all steps into one
// product, they would be B·T·(gates·H) floats written out to memory and read back. Each element
// is the same dot product, bit for bit, as in one product over all rows, except that a weight
// gradient accumulates step by step.

/// y[:, step, :] = a·w for a [B, K], w [K, F] and y [B, T, F]; the other steps of y are untouched.
public func projectIntoTimeStep(_ a: Tensor, _ w: Tensor, into y: inout Tensor, step: Int) {
    require(y.rank == 3, "projectIntoTimeStep: the output \(y.shape) should be [batch, time, features]")
    let (batch, time, features) = (y.shape[0], y.shape[1], y.shape[2]), inner = w.shape.matrix.rows
    require(step >= 0 && step < time && a.shape == Shape(batch, inner) && w.shape.matrix.cols == features,
            "projectIntoTimeStep: \(a.shape) by \(w.shape) does not fit step \(step) of \(y.shape)")
    Engine.ensureConfigured()
    y.makeUnique()
    let task = timeStepProduct(a: a.basePointer, lda: inner, b: w.basePointer, c: y.basePointer + step * features,
                               ldc: time * features, m: batch, n: features, k: inner)
    withExtendedLifetime((a, w)) { Parallel.run(task, count: batch, workPerItem: features * inner / 4) }
}

/// One step's share of a recurrent layer's parameter gradients, from the step's pre-activation
/// gradients of the input projections `inputGates` and of the recurrent ones `recurrentGates`
/// [B, G] (G = gates·H; one tensor twice where they are equal, as in the LSTM), the sequence
/// x [B, T, I] and the states the step read, `previous` [B, H]:
///   dWᵢₕ += dgxᵀ·x[:, step, :],  dbᵢₕ += Σ rows of dgx,  dWₕₕ += dghᵀ·h,  dbₕₕ += Σ rows of dgh.
/// The gradients are workspace tensors (a parameter's), updated in place; nil skips one (a frozen
/// parameter). Each thread takes a block of the G gate rows through all four.
public func accumulateRecurrentStepGradients(inputGates dgx: Tensor, recurrentGates dgh: Tensor, input x: Tensor, step: Int,
                                             previous h: Tensor, weightIH dWih: Tensor?, biasIH dbih: Tensor?,
                                             weightHH dWhh: Tensor?, biasHH dbhh: Tensor?) {
    require(x.rank == 3, "accumulateRecurrentStepGradients: the input \(x.shape) should be [batch, time, features]")
    let (batch, time, inputs) = (x.shape[0], x.shape[1], x.shape[2]), gates = dgx.shape.matrix.cols, hidden = h.shape.matrix.cols
    require(step >= 0 && step < time && dgx.shape == Shape(batch, gates) && dgh.shape == Shape(batch, gates)
            && h.shape == Shape(batch, hidden) && (dWih?.shape ?? Shape(gates, inputs)) == Shape(gates, inputs)
            && (dWhh?.shape ?? Shape(gates, hidden)) == Shape(gates, hidden) && (dbih?.count ?? gates) == gates
            && (dbhh?.count ?? gates) == gates,
            "accumulateRecurrentStepGradients: gate gradients \(dgx.shape) and \(dgh.shape), step \(step) of \(x.shape), states \(h.shape) do not fit the gradients")
    Engine.ensureConfigured()
    let weightGradient = { (a: Tensor, b: UnsafePointer<Float>, ldb: Int, dw: Tensor?, n: Int) -> GemmTask? in
        guard let dw else { return nil }
        var task = GemmTask(a: a.basePointer, b: b, c: dw.workspaceBaseAddress, lda: blasInt(gates, "lda"), ldb: blasInt(ldb, "ldb"),
                            ldc: blasInt(n, "ldc"), transposeA: true, transposeB: false, m: blasInt(gates, "gemm M"),
                            n: blasInt(n, "gemm N"), k: blasInt(batch, "gemm K"), alpha: 1, beta: 1, bias: nil, splitColumns: false)
        task.cut(.smallRowsOrInner)
        return task
    }
    let task = RecurrentStepGradientTask(
        inputWeights: weightGradient(dgx, x.basePointer + step * inputs, time * inputs, dWih, inputs),
        recurrentWeights: weightGradient(dgh, h.basePointer, hidden, dWhh, hidden),
        dgx: dgx.basePointer, dgh: dgh.basePointer, dbih: dbih?.workspaceBaseAddress, dbhh: dbhh?.workspaceBaseAddress,
        batch: batch, gates: gates)
    withExtendedLifetime((dgx, dgh, x, h)) { Parallel.run(task, count: gates, workPerItem: batch * (inputs + hidden + 2) / 4) }
}

/// Gate rows of a recurrent step's parameter gradients.
struct RecurrentStepGradientTask: ParallelTask {
    let inputWeights: GemmTask?, recurrentWeights: GemmTask?
    let dgx: UnsafePointer<Float>, dgh: UnsafePointer<Float>
    let dbih: UnsafeMutablePointer<Float>?, dbhh: UnsafeMutablePointer<Float>?
    let batch: Int, gates: Int

    func run(_ rows: Range<Int>) {
        inputWeights?.run(rows)
        recurrentWeights?.run(rows)
        // Each bias element is its gate's column summed over the batch's rows in order.
        if let dbih { drl_column_sums(dgx + rows.lowerBound, dbih + rows.lowerBound, batch, rows.count, gates, 1) }
        if let dbhh { drl_column_sums(dgh + rows.lowerBound, dbhh + rows.lowerBound, batch, rows.count, gates, 1) }
    }
}

/// C [m, n] = a·b + beta·C for a [m, k] (rows `lda` apart) and b [k, n], in OpenBLAS's small-matrix blocks
/// of C's rows (as `gemm(…, blocking: .smallCalls)`), not yet run: `run(rows)` computes a block of
/// C's rows.
func timeStepProduct(a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                     m: Int, n: Int, k: Int, beta: Float = 0) -> GemmTask {
    var task = GemmTask(a: a, b: b, c: c, lda: blasInt(max(lda, 1), "lda"), ldb: blasInt(max(n, 1), "ldb"),
                        ldc: blasInt(max(ldc, 1), "ldc"), transposeA: false, transposeB: false,
                        m: blasInt(m, "gemm M"), n: blasInt(n, "gemm N"), k: blasInt(k, "gemm K"),
                        alpha: 1, beta: beta, bias: nil, splitColumns: false)
    task.cut(.smallCalls)
    return task
}
