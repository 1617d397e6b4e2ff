import CDRLKernels

// One time step of a GRU or an LSTM over a batch: the step's matrix products and its fused
// elementwise kernel, as one parallel job. Every part of a step is local to a row of the batch, so each
// thread takes a block of rows through all of them: one hand-off per step instead of one per
// product, which matters when the step is a few hundred microseconds of work.

/// One GRU step over a batch-first sequence x [B, T, I] (PyTorch's gates r, z, n): projects the
/// step's inputs and the previous state [B, H], x[:, step, :]·Wᵢₕᵀ and h·Wₕₕᵀ, into the workspaces
/// `inputGates` and `recurrentGates` [B, 3H] through the transposed weights [I, 3H] and [H, 3H],
/// then writes r | z [B, 2H], n [B, H], Wₕₙh + bₕₙ [B, H], the next state [B, H] and
/// output[:, step, :].
public func gruForwardStep(_ x: Tensor, step: Int, transposedIH: Tensor, transposedHH: Tensor, biasIH: Tensor,
                           biasHH: Tensor, previous: Tensor, inputGates: inout Tensor, recurrentGates: inout Tensor,
                           resetUpdate: inout Tensor, candidate: inout Tensor, recurrentCandidate: inout Tensor,
                           next: inout Tensor, output: inout Tensor) {
    require(x.rank == 3 && previous.rank == 2,
            "gruForwardStep: input \(x.shape) and state \(previous.shape) should be [batch, time, input] and [batch, hidden]")
    let (batch, time, inputs) = (x.shape[0], x.shape[1], x.shape[2]), hidden = previous.shape[1], gates = 3 * hidden
    require(transposedIH.shape == Shape(inputs, gates) && transposedHH.shape == Shape(hidden, gates)
            && previous.shape == Shape(batch, hidden) && inputGates.shape == Shape(batch, gates)
            && recurrentGates.shape == Shape(batch, gates) && resetUpdate.count == batch * 2 * hidden
            && candidate.count == batch * hidden && recurrentCandidate.count == batch * hidden
            && next.count == batch * hidden && output.shape == Shape(batch, time, hidden)
            && biasIH.count == gates && biasHH.count == gates && step >= 0 && step < time,
            "gruForwardStep: shapes do not fit input \(x.shape), hidden \(hidden) at step \(step)")
    Engine.ensureConfigured()
    inputGates.makeUnique(); recurrentGates.makeUnique()
    resetUpdate.makeUnique(); candidate.makeUnique(); recurrentCandidate.makeUnique(); next.makeUnique(); output.makeUnique()
    let task = GRUForwardStepTask(
        inputProjection: timeStepProduct(a: x.basePointer + step * inputs, lda: time * inputs, b: transposedIH.basePointer,
                                         c: inputGates.basePointer, ldc: gates, m: batch, n: gates, k: inputs),
        recurrentProjection: timeStepProduct(a: previous.basePointer, lda: hidden, b: transposedHH.basePointer,
                                             c: recurrentGates.basePointer, ldc: gates, m: batch, n: gates, k: hidden),
        gx: inputGates.basePointer, gh: recurrentGates.basePointer, bih: biasIH.basePointer, bhh: biasHH.basePointer,
        previous: previous.basePointer, rz: resetUpdate.basePointer, n: candidate.basePointer,
        ghn: recurrentCandidate.basePointer, next: next.basePointer, y: output.basePointer + step * hidden,
        yStride: time * hidden, hidden: hidden)
    withExtendedLifetime((x, transposedIH, transposedHH, biasIH, biasHH, previous)) {
        Parallel.run(task, count: batch, workPerItem: (inputs + hidden) * gates / 4 + hidden * 12)
    }
}

/// The matching backward step. `stateGradient` [B, H] holds the gradient reaching h_{step+1} from
/// later steps; the step writes its pre-activation gradients of the input projections into
/// `inputGateGradient` [B, 3H] and of the recurrent ones into `recurrentGateGradient` [B, 3H],
/// replaces `stateGradient` with the gradient reaching h_step (dh·z + dgh·Wₕₕ) and writes
/// inputGradient[:, step, :] = dgx·Wᵢₕ. The weights are in their own layout, [3H, H] and [3H, I].
public func gruBackwardStep(step: Int, gradOutput: Tensor, resetUpdate: Tensor, candidate: Tensor,
                            recurrentCandidate: Tensor, previous: Tensor, weightIH: Tensor, weightHH: Tensor,
                            stateGradient: inout Tensor, inputGateGradient: inout Tensor,
                            recurrentGateGradient: inout Tensor, inputGradient: inout Tensor) {
    require(gradOutput.rank == 3 && inputGradient.rank == 3,
            "gruBackwardStep: gradients \(gradOutput.shape) and \(inputGradient.shape) should be [batch, time, features]")
    let (batch, time, hidden) = (gradOutput.shape[0], gradOutput.shape[1], gradOutput.shape[2]), gates = 3 * hidden
    let inputs = inputGradient.shape[2]
    require(resetUpdate.count == batch * 2 * hidden && candidate.count == batch * hidden
            && recurrentCandidate.count == batch * hidden && previous.count == batch * hidden
            && weightHH.shape == Shape(gates, hidden) && weightIH.shape == Shape(gates, inputs)
            && stateGradient.shape == Shape(batch, hidden) && inputGateGradient.shape == Shape(batch, gates)
            && recurrentGateGradient.shape == Shape(batch, gates) && inputGradient.shape == Shape(batch, time, inputs)
            && step >= 0 && step < time,
            "gruBackwardStep: shapes do not fit gradient \(gradOutput.shape), input gradient \(inputGradient.shape) at step \(step)")
    Engine.ensureConfigured()
    stateGradient.makeUnique(); inputGateGradient.makeUnique(); recurrentGateGradient.makeUnique(); inputGradient.makeUnique()
    let stateProduct = timeStepProduct(a: recurrentGateGradient.basePointer, lda: gates, b: weightHH.basePointer,
                                       c: stateGradient.basePointer, ldc: hidden, m: batch, n: hidden, k: gates, beta: 1)
    let task = GRUBackwardStepTask(
        dy: gradOutput.basePointer + step * hidden, dyStride: time * hidden, rz: resetUpdate.basePointer,
        n: candidate.basePointer, ghn: recurrentCandidate.basePointer, previous: previous.basePointer,
        dh: stateGradient.basePointer, dgx: inputGateGradient.basePointer, dgh: recurrentGateGradient.basePointer,
        hidden: hidden, stateProduct: stateProduct,
        inputProduct: timeStepProduct(a: inputGateGradient.basePointer, lda: gates, b: weightIH.basePointer,
                                      c: inputGradient.basePointer + step * inputs, ldc: time * inputs,
                                      m: batch, n: inputs, k: gates))
    withExtendedLifetime((gradOutput, resetUpdate, candidate, recurrentCandidate, previous, weightIH, weightHH)) {
        Parallel.run(task, count: batch, workPerItem: (hidden + inputs) * gates / 4 + hidden * 8)
    }
}

/// Rows of a GRU step: both projections, then the gates.
struct GRUForwardStepTask: ParallelTask {
    let inputProjection: GemmTask, recurrentProjection: GemmTask
    let gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, bih: UnsafePointer<Float>, bhh: UnsafePointer<Float>
    let previous: UnsafePointer<Float>, rz: UnsafeMutablePointer<Float>, n: UnsafeMutablePointer<Float>
    let ghn: UnsafeMutablePointer<Float>, next: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, yStride: Int
    let hidden: Int

    func run(_ rows: Range<Int>) {
        inputProjection.run(rows)
        recurrentProjection.run(rows)
        let b = rows.lowerBound, h = hidden
        drl_gru_forward_step(gx + b * 3 * h, gh + b * 3 * h, bih, bhh, previous + b * h, rz + b * 2 * h,
                             n + b * h, ghn + b * h, next + b * h, y + b * yStride, yStride, rows.count, h)
    }
}

/// Rows of a GRU backward step: the gate gradients, then the gradients reaching h and x.
struct GRUBackwardStepTask: ParallelTask {
    let dy: UnsafePointer<Float>, dyStride: Int, rz: UnsafePointer<Float>, n: UnsafePointer<Float>, ghn: UnsafePointer<Float>
    let previous: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>, dgx: UnsafeMutablePointer<Float>
    let dgh: UnsafeMutablePointer<Float>, hidden: Int
    let stateProduct: GemmTask, inputProduct: GemmTask

    func run(_ rows: Range<Int>) {
        let b = rows.lowerBound, h = hidden
        drl_gru_backward_step(dy + b * dyStride, dyStride, rz + b * 2 * h, n + b * h, ghn + b * h, previous + b * h,
                              dh + b * h, dgx + b * 3 * h, dgh + b * 3 * h, rows.count, h)
        stateProduct.run(rows)
        inputProduct.run(rows)
    }
}

/// One LSTM step (PyTorch's gates i, f, g, o) over a batch-first sequence x [B, T, I]: projects
/// the step's inputs and the previous state, x[:, step, :]·Wᵢₕᵀ and h·Wₕₕᵀ, into the workspaces
/// `inputGates` and `gates` [B, 4H] through the transposed weights [I, 4H] and [H, 4H], adds both
/// biases, activates the gates into `gates`, and writes the cell c' = f·c + i·g into `cell`
/// [B, H], tanh(c') into `cellTanh`, h' = o·tanh(c') into `next` and output[:, step, :].
public func lstmForwardStep(_ x: Tensor, step: Int, transposedIH: Tensor, transposedHH: Tensor, biasIH: Tensor, biasHH: Tensor,
                            previous: Tensor, previousCell: Tensor, inputGates: inout Tensor, gates: inout Tensor,
                            cell: inout Tensor, cellTanh: inout Tensor, next: inout Tensor, output: inout Tensor) {
    require(x.rank == 3 && output.rank == 3,
            "lstmForwardStep: input \(x.shape) and output \(output.shape) should be [batch, time, features]")
    let (batch, time, inputs) = (x.shape[0], x.shape[1], x.shape[2]), hidden = previous.shape.matrix.cols, width = 4 * hidden
    require(transposedIH.shape == Shape(inputs, width) && transposedHH.shape == Shape(hidden, width)
            && biasIH.count == width && biasHH.count == width && previous.shape == Shape(batch, hidden)
            && previousCell.count == batch * hidden && inputGates.shape == Shape(batch, width)
            && gates.shape == Shape(batch, width) && cell.count == batch * hidden && cellTanh.count == batch * hidden
            && next.count == batch * hidden && output.shape == Shape(batch, time, hidden) && step >= 0 && step < time,
            "lstmForwardStep: shapes do not fit input \(x.shape), output \(output.shape) at step \(step)")
    Engine.ensureConfigured()
    inputGates.makeUnique(); gates.makeUnique(); cell.makeUnique(); cellTanh.makeUnique(); next.makeUnique(); output.makeUnique()
    let task = LSTMForwardStepTask(
        inputProjection: timeStepProduct(a: x.basePointer + step * inputs, lda: time * inputs, b: transposedIH.basePointer,
                                         c: inputGates.basePointer, ldc: width, m: batch, n: width, k: inputs),
        recurrentProjection: timeStepProduct(a: previous.basePointer, lda: hidden, b: transposedHH.basePointer,
                                             c: gates.basePointer, ldc: width, m: batch, n: width, k: hidden),
        gates: gates.basePointer, gx: inputGates.basePointer, bih: biasIH.basePointer, bhh: biasHH.basePointer,
        previousCell: previousCell.basePointer, cell: cell.basePointer, cellTanh: cellTanh.basePointer,
        next: next.basePointer, y: output.basePointer + step * hidden, yStride: time * hidden, hidden: hidden)
    withExtendedLifetime((x, transposedIH, transposedHH, biasIH, biasHH, previous, previousCell)) {
        Parallel.run(task, count: batch, workPerItem: (inputs + hidden) * width / 4 + hidden * 16)
    }
}

/// The matching backward step. `stateGradient` and `cellGradient` [B, H] hold the gradients
/// reaching h' and c' from later steps; the step writes its pre-activation gate gradients into
/// `gateGradient` [B, 4H], replaces `cellGradient` with the gradient reaching c (dc·f) and
/// `stateGradient` with the one reaching h (dg·Wₕₕ), and writes inputGradient[:, step, :] = dg·Wᵢₕ.
/// The weights are in their own layout, [4H, H] and [4H, I].
public func lstmBackwardStep(step: Int, gradOutput: Tensor, gates: Tensor, cellTanh: Tensor, previousCell: Tensor,
                             weightIH: Tensor, weightHH: Tensor, stateGradient: inout Tensor, cellGradient: inout Tensor,
                             gateGradient: inout Tensor, inputGradient: inout Tensor) {
    require(gradOutput.rank == 3 && inputGradient.rank == 3,
            "lstmBackwardStep: gradients \(gradOutput.shape) and \(inputGradient.shape) should be [batch, time, features]")
    let (batch, time, hidden) = (gradOutput.shape[0], gradOutput.shape[1], gradOutput.shape[2]), width = 4 * hidden
    let inputs = inputGradient.shape[2]
    require(gates.count == batch * width && cellTanh.count == batch * hidden && previousCell.count == batch * hidden
            && weightHH.shape == Shape(width, hidden) && weightIH.shape == Shape(width, inputs)
            && stateGradient.shape == Shape(batch, hidden) && cellGradient.count == batch * hidden
            && gateGradient.shape == Shape(batch, width) && inputGradient.shape == Shape(batch, time, inputs)
            && step >= 0 && step < time,
            "lstmBackwardStep: shapes do not fit gradient \(gradOutput.shape), input gradient \(inputGradient.shape) at step \(step)")
    Engine.ensureConfigured()
    stateGradient.makeUnique(); cellGradient.makeUnique(); gateGradient.makeUnique(); inputGradient.makeUnique()
    let task = LSTMBackwardStepTask(
        dy: gradOutput.basePointer + step * hidden, dyStride: time * hidden, gates: gates.basePointer,
        cellTanh: cellTanh.basePointer, previousCell: previousCell.basePointer, dh: stateGradient.basePointer,
        dc: cellGradient.basePointer, dg: gateGradient.basePointer, hidden: hidden,
        stateProduct: timeStepProduct(a: gateGradient.basePointer, lda: width, b: weightHH.basePointer,
                                      c: stateGradient.basePointer, ldc: hidden, m: batch, n: hidden, k: width),
        inputProduct: timeStepProduct(a: gateGradient.basePointer, lda: width, b: weightIH.basePointer,
                                      c: inputGradient.basePointer + step * inputs, ldc: time * inputs,
                                      m: batch, n: inputs, k: width))
    withExtendedLifetime((gradOutput, gates, cellTanh, previousCell, weightIH, weightHH)) {
        Parallel.run(task, count: batch, workPerItem: (hidden + inputs) * width / 4 + hidden * 12)
    }
}

/// Rows of an LSTM step: both projections, then the gates and the cell.
struct LSTMForwardStepTask: ParallelTask {
    let inputProjection: GemmTask, recurrentProjection: GemmTask
    let gates: UnsafeMutablePointer<Float>, gx: UnsafePointer<Float>
    let bih: UnsafePointer<Float>, bhh: UnsafePointer<Float>, previousCell: UnsafePointer<Float>
    let cell: UnsafeMutablePointer<Float>, cellTanh: UnsafeMutablePointer<Float>, next: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>, yStride: Int, hidden: Int

    func run(_ rows: Range<Int>) {
        inputProjection.run(rows)
        recurrentProjection.run(rows)
        let b = rows.lowerBound, h = hidden
        drl_lstm_forward_step(gates + b * 4 * h, gx + b * 4 * h, bih, bhh, previousCell + b * h, cell + b * h,
                              cellTanh + b * h, next + b * h, y + b * yStride, yStride, rows.count, h)
    }
}

/// Rows of an LSTM backward step: the gate gradients, then the gradients reaching h and x.
struct LSTMBackwardStepTask: ParallelTask {
    let dy: UnsafePointer<Float>, dyStride: Int, gates: UnsafePointer<Float>, cellTanh: UnsafePointer<Float>
    let previousCell: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>
    let dg: UnsafeMutablePointer<Float>, hidden: Int
    let stateProduct: GemmTask, inputProduct: GemmTask

    func run(_ rows: Range<Int>) {
        let b = rows.lowerBound, h = hidden
        drl_lstm_backward_step(dy + b * dyStride, dyStride, gates + b * 4 * h, cellTanh + b * h, previousCell + b * h,
                               dh + b * h, dc + b * h, dg + b * 4 * h, rows.count, h)
        stateProduct.run(rows)
        inputProduct.run(rows)
    }
}
