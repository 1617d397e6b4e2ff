import CDRLKernels

// Fused elementwise parts of recurrent layers, one time step over a batch (the matrix products
// around them are GEMMs done by the layer). Rows are split across threads.

/// One GRU step (PyTorch's gates r, z, n): from this step's input projections `inputGates` [B, 3H]
/// = x·Wᵢₕᵀ (bias not added) and recurrent projections `recurrentGates` [B, 3H] = h·Wₕₕᵀ,
/// the biases and the previous state [B, H], writes r | z [B, 2H], n [B, H], Wₕₙh + bₕₙ [B, H], the
/// next state [B, H] and output[:, step, :].
public func gruForwardStep(step: Int, inputGates: Tensor, recurrentGates: Tensor, biasIH: Tensor, biasHH: Tensor,
                           previous: Tensor, resetUpdate: inout Tensor, candidate: inout Tensor,
                           recurrentCandidate: inout Tensor, next: inout Tensor, output: inout Tensor) {
    let (batch, time, hidden) = (output.shape[0], output.shape[1], previous.shape[1])
    precondition(inputGates.shape == Shape(batch, 3 * hidden) && recurrentGates.shape == Shape(batch, 3 * hidden)
                 && previous.shape == Shape(batch, hidden) && resetUpdate.count == batch * 2 * hidden
                 && candidate.count == batch * hidden && recurrentCandidate.count == batch * hidden
                 && next.count == batch * hidden && output.rank == 3 && output.shape[2] == hidden
                 && biasIH.count == 3 * hidden && biasHH.count == 3 * hidden && step >= 0 && step < time,
                 "gruForwardStep: shapes do not fit batch \(batch), time \(time), hidden \(hidden) at step \(step)")
    resetUpdate.makeUnique(); candidate.makeUnique(); recurrentCandidate.makeUnique(); next.makeUnique(); output.makeUnique()
    let task = GRUForwardTask(gx: inputGates.basePointer, gxStride: 3 * hidden,
                              gh: recurrentGates.basePointer, bih: biasIH.basePointer, bhh: biasHH.basePointer,
                              previous: previous.basePointer, rz: resetUpdate.basePointer, n: candidate.basePointer,
                              ghn: recurrentCandidate.basePointer, next: next.basePointer,
                              y: output.basePointer + step * hidden, yStride: time * hidden, hidden: hidden)
    withExtendedLifetime((inputGates, recurrentGates, biasIH, biasHH, previous)) {
        Parallel.run(task, count: batch, workPerItem: hidden * 12)
    }
}

/// The matching backward step. `stateGradient` [B, H] holds the gradient reaching h_{step+1} from
/// later steps and is replaced by its direct part (dh·z); the caller adds dgh·Wₕₕ. Writes the
/// step's pre-activation gradients of the input projections into inputGateGradient [B, 3H] and of
/// the recurrent ones into recurrentGateGradient [B, 3H].
public func gruBackwardStep(step: Int, gradOutput: Tensor, resetUpdate: Tensor, candidate: Tensor,
                            recurrentCandidate: Tensor, previous: Tensor, stateGradient: inout Tensor,
                            inputGateGradient: inout Tensor, recurrentGateGradient: inout Tensor) {
    let (batch, time, hidden) = (gradOutput.shape[0], gradOutput.shape[1], gradOutput.shape[2])
    precondition(resetUpdate.count == batch * 2 * hidden && candidate.count == batch * hidden
                 && recurrentCandidate.count == batch * hidden && previous.count == batch * hidden
                 && stateGradient.count == batch * hidden && inputGateGradient.count == batch * 3 * hidden
                 && recurrentGateGradient.count == batch * 3 * hidden && step >= 0 && step < time,
                 "gruBackwardStep: shapes do not fit batch \(batch), time \(time), hidden \(hidden) at step \(step)")
    stateGradient.makeUnique(); inputGateGradient.makeUnique(); recurrentGateGradient.makeUnique()
    let task = GRUBackwardTask(dy: gradOutput.basePointer + step * hidden, dyStride: time * hidden,
                               rz: resetUpdate.basePointer, n: candidate.basePointer, ghn: recurrentCandidate.basePointer,
                               previous: previous.basePointer, dh: stateGradient.basePointer,
                               dgx: inputGateGradient.basePointer, dgxStride: 3 * hidden,
                               dgh: recurrentGateGradient.basePointer, hidden: hidden)
    withExtendedLifetime((gradOutput, resetUpdate, candidate, recurrentCandidate, previous)) {
        Parallel.run(task, count: batch, workPerItem: hidden * 8)
    }
}

struct GRUForwardTask: ParallelTask {
    let gx: UnsafePointer<Float>, gxStride: Int, gh: UnsafePointer<Float>, bih: UnsafePointer<Float>, bhh: UnsafePointer<Float>
    let previous: UnsafePointer<Float>, rz: UnsafeMutablePointer<Float>, n: UnsafeMutablePointer<Float>
    let ghn: UnsafeMutablePointer<Float>, next: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, yStride: Int
    let hidden: Int

    func run(_ rows: Range<Int>) {
        let b = rows.lowerBound, h = hidden
        drl_gru_forward_step(gx + b * gxStride, gxStride, gh + b * 3 * h, bih, bhh, previous + b * h, rz + b * 2 * h,
                             n + b * h, ghn + b * h, next + b * h, y + b * yStride, yStride, rows.count, h)
    }
}

struct GRUBackwardTask: ParallelTask {
    let dy: UnsafePointer<Float>, dyStride: Int, rz: UnsafePointer<Float>, n: UnsafePointer<Float>, ghn: UnsafePointer<Float>
    let previous: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>, dgx: UnsafeMutablePointer<Float>, dgxStride: Int
    let dgh: UnsafeMutablePointer<Float>, hidden: Int

    func run(_ rows: Range<Int>) {
        let b = rows.lowerBound, h = hidden
        drl_gru_backward_step(dy + b * dyStride, dyStride, rz + b * 2 * h, n + b * h, ghn + b * h, previous + b * h,
                              dh + b * h, dgx + b * dgxStride, dgxStride, dgh + b * 3 * h, rows.count, h)
    }
}
