import CDRLKernels

// Row-wise softmax and log-softmax over the last dimension. A row that is entirely -inf (fully
// masked) gives zeros from softmax and -inf from log-softmax; a NaN or +inf anywhere in a row
// makes that whole row NaN.

enum SoftmaxKind {
    case softmax, logSoftmax
}

/// y = softmax(x) or log-softmax(x) for a range of rows; y may be x.
struct SoftmaxTask: ParallelTask {
    let kind: SoftmaxKind
    let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    let cols: Int
    /// Softmax only: where to write each row's log-sum-exp, if anywhere.
    var logSumExp: UnsafeMutablePointer<Float>? = nil

    func run(_ rows: Range<Int>) {
        let o = rows.lowerBound * cols
        switch kind {
        case .softmax: drl_softmax_rows(x + o, y + o, logSumExp.map { $0 + rows.lowerBound }, rows.count, cols)
        case .logSoftmax: drl_log_softmax_rows(x + o, y + o, rows.count, cols)
        }
    }
}

/// The backward pass of `SoftmaxTask` from its output y, for a range of rows.
struct SoftmaxBackwardTask: ParallelTask {
    let kind: SoftmaxKind
    let y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
    let cols: Int

    func run(_ rows: Range<Int>) {
        let o = rows.lowerBound * cols
        switch kind {
        case .softmax: drl_softmax_backward_rows(y + o, dy + o, dx + o, rows.count, cols)
        case .logSoftmax: drl_log_softmax_backward_rows(y + o, dy + o, dx + o, rows.count, cols)
        }
    }
}

func runSoftmax(_ kind: SoftmaxKind, _ x: Tensor, into y: inout Tensor, _ name: StaticString) {
    require(x.rank >= 1 && x.shape == y.shape, "\(name): input \(x.shape) and output \(y.shape) must match")
    let (rows, cols) = x.shape.matrix
    y.makeUnique()
    let task = SoftmaxTask(kind: kind, x: x.basePointer, y: y.basePointer, cols: cols)
    withExtendedLifetime(x) { Parallel.run(task, count: rows, workPerItem: cols * 4) }
}

func runSoftmaxBackward(_ kind: SoftmaxKind, _ y: Tensor, _ dy: Tensor, into dx: inout Tensor, _ name: StaticString) {
    require(y.rank >= 1 && y.shape == dy.shape && y.shape == dx.shape,
            "\(name): output \(y.shape), gradient \(dy.shape) and result \(dx.shape) must match")
    let (rows, cols) = y.shape.matrix
    dx.makeUnique()
    let task = SoftmaxBackwardTask(kind: kind, y: y.basePointer, dy: dy.basePointer, dx: dx.basePointer, cols: cols)
    withExtendedLifetime((y, dy)) { Parallel.run(task, count: rows, workPerItem: cols * 2) }
}

/// y = softmax(x) along the last dimension.
public func softmax(_ x: Tensor, into y: inout Tensor) { runSoftmax(.softmax, x, into: &y, "softmax") }

/// y = softmax(x), also writing log Σ exp(x) of each row into `logSumExp` (one element per row):
/// what a cross-entropy loss needs without a second pass.
public func softmax(_ x: Tensor, into y: inout Tensor, logSumExp: inout Tensor) {
    require(x.rank >= 1 && x.shape == y.shape, "softmax: input \(x.shape) and output \(y.shape) must match")
    let (rows, cols) = x.shape.matrix
    require(logSumExp.count == rows, "softmax: logSumExp \(logSumExp.shape) needs \(rows) elements for input \(x.shape)")
    y.makeUnique()
    logSumExp.makeUnique()
    let task = SoftmaxTask(kind: .softmax, x: x.basePointer, y: y.basePointer, cols: cols, logSumExp: logSumExp.basePointer)
    withExtendedLifetime(x) { Parallel.run(task, count: rows, workPerItem: cols * 4) }
}

public func softmax(_ x: Tensor) -> Tensor {
    var y = Tensor(zeros: x.shape)
    softmax(x, into: &y)
    return y
}

/// x = softmax(x) along the last dimension.
public func softmaxInPlace(_ x: inout Tensor) {
    x.makeUnique()
    let (rows, cols) = x.shape.matrix
    Parallel.run(SoftmaxTask(kind: .softmax, x: x.basePointer, y: x.basePointer, cols: cols), count: rows,
                 workPerItem: cols * 4)
}

/// y = log(softmax(x)) along the last dimension, computed stably as (x − max) − log Σ exp(x − max).
public func logSoftmax(_ x: Tensor, into y: inout Tensor) { runSoftmax(.logSoftmax, x, into: &y, "logSoftmax") }

public func logSoftmax(_ x: Tensor) -> Tensor {
    var y = Tensor(zeros: x.shape)
    logSoftmax(x, into: &y)
    return y
}

/// x = logSoftmax(x) along the last dimension.
public func logSoftmaxInPlace(_ x: inout Tensor) {
    x.makeUnique()
    let (rows, cols) = x.shape.matrix
    Parallel.run(SoftmaxTask(kind: .logSoftmax, x: x.basePointer, y: x.basePointer, cols: cols), count: rows,
                 workPerItem: cols * 4)
}

/// dx = y ⊙ (dy − Σ dy ⊙ y) per row, from the softmax output y.
public func softmaxBackward(output y: Tensor, gradOutput dy: Tensor, into dx: inout Tensor) {
    runSoftmaxBackward(.softmax, y, dy, into: &dx, "softmaxBackward")
}

/// dx = dy − softmax(x) · Σ dy per row, from the log-softmax output y.
public func logSoftmaxBackward(output y: Tensor, gradOutput dy: Tensor, into dx: inout Tensor) {
    runSoftmaxBackward(.logSoftmax, y, dy, into: &dx, "logSoftmaxBackward")
}
