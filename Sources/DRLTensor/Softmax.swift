import CDRLKernels

// Row-wise softmax and log-softmax over the last dimension. A row that is entirely -inf (fully
// masked) gives zeros from softmax and -inf from log-softmax; a NaN anywhere in a row makes that
// whole row NaN.

@inlinable
func rowKernel(_ x: Tensor, into y: inout Tensor, _ name: StaticString,
               _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) {
    precondition(x.rank >= 1 && x.shape == y.shape, "\(name): input \(x.shape) and output \(y.shape) must match")
    let (rows, cols) = x.shape.matrix
    y.makeUnique()
    let px = x.basePointer, py = y.basePointer
    withExtendedLifetime(x) {
        Parallel.forChunks(count: rows, workPerItem: cols * 4) { r in
            kernel(px + r.lowerBound * cols, py + r.lowerBound * cols, r.count, cols)
        }
    }
}

@inlinable
func rowBackwardKernel(_ y: Tensor, _ dy: Tensor, into dx: inout Tensor, _ name: StaticString,
                       _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) {
    precondition(y.rank >= 1 && y.shape == dy.shape && y.shape == dx.shape,
                 "\(name): output \(y.shape), gradient \(dy.shape) and result \(dx.shape) must match")
    let (rows, cols) = y.shape.matrix
    dx.makeUnique()
    let py = y.basePointer, pg = dy.basePointer, pd = dx.basePointer
    withExtendedLifetime((y, dy)) {
        Parallel.forChunks(count: rows, workPerItem: cols * 2) { r in
            let o = r.lowerBound * cols
            kernel(py + o, pg + o, pd + o, r.count, cols)
        }
    }
}

/// y = softmax(x) along the last dimension. `y` may be `x` itself for in-place use through
/// `softmaxInPlace`.
public func softmax(_ x: Tensor, into y: inout Tensor) {
    rowKernel(x, into: &y, "softmax") { drl_softmax_rows($0, $1, $2, $3) }
}

public func softmax(_ x: Tensor) -> Tensor {
    var y = Tensor(zeros: x.shape)
    softmax(x, into: &y)
    return y
}

public func softmaxInPlace(_ x: inout Tensor) {
    x.makeUnique()
    let p = x.basePointer
    let (rows, cols) = x.shape.matrix
    Parallel.forChunks(count: rows, workPerItem: cols * 4) { r in
        drl_softmax_rows(p + r.lowerBound * cols, p + r.lowerBound * cols, r.count, cols)
    }
}

/// y = log(softmax(x)) along the last dimension, computed stably (x - max - log Σ exp(x - max)).
public func logSoftmax(_ x: Tensor, into y: inout Tensor) {
    rowKernel(x, into: &y, "logSoftmax") { drl_log_softmax_rows($0, $1, $2, $3) }
}

public func logSoftmax(_ x: Tensor) -> Tensor {
    var y = Tensor(zeros: x.shape)
    logSoftmax(x, into: &y)
    return y
}

/// dx = y ⊙ (dy − Σ dy ⊙ y) per row, from the softmax output y.
public func softmaxBackward(output y: Tensor, gradOutput dy: Tensor, into dx: inout Tensor) {
    rowBackwardKernel(y, dy, into: &dx, "softmaxBackward") { drl_softmax_backward_rows($0, $1, $2, $3, $4) }
}

/// dx = dy − softmax(x) · Σ dy per row, from the log-softmax output y.
public func logSoftmaxBackward(output y: Tensor, gradOutput dy: Tensor, into dx: inout Tensor) {
    rowBackwardKernel(y, dy, into: &dx, "logSoftmaxBackward") { drl_log_softmax_backward_rows($0, $1, $2, $3, $4) }
}
