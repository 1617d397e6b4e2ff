import CDRLKernels

/// LayerNorm over the last dimension: per row, mean and rstd = 1/sqrt(var + eps) (biased
/// variance), and y = (x − mean) · rstd · gamma + beta. `mean` and `rstd` hold one value per row and
/// are what a backward pass needs. `gamma` and `beta` default to 1 and 0.
public func layerNorm(_ x: Tensor, gamma: Tensor? = nil, beta: Tensor? = nil, epsilon: Float = 1e-5,
                      into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor) {
    let (rows, cols) = x.shape.matrix
    require(y.shape == x.shape, "layerNorm: output \(y.shape) must match input \(x.shape)")
    require(gamma.map { $0.count == cols } ?? true && beta.map { $0.count == cols } ?? true,
            "layerNorm: gamma \(gamma?.shape.description ?? "-") and beta \(beta?.shape.description ?? "-") need \(cols) elements for input \(x.shape)")
    y.makeUnique()
    let py = y.basePointer
    runLayerNorm(x, gamma, beta, epsilon, py, rows, cols, &mean, &rstd)
}

/// Per-row mean and rstd only (the forward pieces of LayerNorm).
public func layerNormStatistics(_ x: Tensor, epsilon: Float = 1e-5, mean: inout Tensor, rstd: inout Tensor) {
    let (rows, cols) = x.shape.matrix
    runLayerNorm(x, nil, nil, epsilon, nil, rows, cols, &mean, &rstd)
}

/// LayerNorm (or its statistics only, when y is nil) for a range of rows.
struct LayerNormTask: ParallelTask {
    let x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>?, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    let cols: Int, epsilon: Float

    func run(_ rows: Range<Int>) {
        let o = rows.lowerBound * cols
        drl_layernorm_rows(x + o, gamma, beta, y.map { $0 + o }, mean + rows.lowerBound, rstd + rows.lowerBound,
                           rows.count, cols, epsilon)
    }
}

func runLayerNorm(_ x: Tensor, _ gamma: Tensor?, _ beta: Tensor?, _ epsilon: Float, _ y: UnsafeMutablePointer<Float>?,
                  _ rows: Int, _ cols: Int, _ mean: inout Tensor, _ rstd: inout Tensor) {
    require(mean.count == rows && rstd.count == rows,
            "layerNorm: mean \(mean.shape) and rstd \(rstd.shape) need \(rows) elements for input \(x.shape)")
    require(epsilon >= 0, "layerNorm: epsilon must be non-negative, got \(epsilon)")
    mean.makeUnique()
    rstd.makeUnique()
    let task = LayerNormTask(x: x.basePointer, gamma: gamma?.basePointer, beta: beta?.basePointer, y: y,
                             mean: mean.basePointer, rstd: rstd.basePointer, cols: cols, epsilon: epsilon)
    withExtendedLifetime((x, gamma, beta)) { Parallel.run(task, count: rows, workPerItem: cols * 2) }
}

/// The backward pass of `layerNorm`: from the forward input x, gamma, the saved per-row `mean` and
/// `rstd` and the output gradient, writes dx; accumulates (+=) into `gammaGradient` unless
/// `accumulateGamma` is false and into `betaGradient` unless `accumulateBeta` is false (frozen
/// parameters get no gradient).
public func layerNormBackward(input x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor, gradOutput dy: Tensor,
                              into dx: inout Tensor, gammaGradient: inout Tensor, betaGradient: inout Tensor,
                              accumulateGamma: Bool = true, accumulateBeta: Bool = true) {
    let (rows, cols) = x.shape.matrix
    require(dy.shape == x.shape && dx.shape == x.shape && mean.count == rows && rstd.count == rows,
            "layerNormBackward: input \(x.shape), gradient \(dy.shape), result \(dx.shape), mean \(mean.shape), rstd \(rstd.shape) do not match")
    require(gamma.count == cols && gammaGradient.count == cols && betaGradient.count == cols,
            "layerNormBackward: gamma \(gamma.shape) and its gradients \(gammaGradient.shape), \(betaGradient.shape) need \(cols) elements")
    dx.makeUnique()
    gammaGradient.makeUnique()
    betaGradient.makeUnique()
    let dg = accumulateGamma ? gammaGradient.basePointer : nil
    let db = accumulateBeta ? betaGradient.basePointer : nil
    withExtendedLifetime((x, gamma, mean, rstd, dy)) {
        guard Engine.threadCount > 1 && rows * cols >= Parallel.minimumWork else {
            // One pass: dx row by row, the parameter gradients accumulated along.
            drl_layernorm_backward_rows(x.basePointer, gamma.basePointer, dy.basePointer, mean.basePointer,
                                        rstd.basePointer, dx.basePointer, dg, db, rows, cols)
            return
        }
        // On several threads: dx by rows, then the parameter gradients by columns, each column
        // summed over the rows in order, so the bits are those of the single pass.
        let inputTask = LayerNormInputGradientTask(x: x.basePointer, gamma: gamma.basePointer, dy: dy.basePointer,
                                                   mean: mean.basePointer, rstd: rstd.basePointer, dx: dx.basePointer, cols: cols)
        Parallel.run(inputTask, count: rows, workPerItem: cols * 4)
        guard dg != nil || db != nil else { return }
        let width = columnBlockWidth(columns: cols)
        let parameterTask = LayerNormParameterGradientTask(x: x.basePointer, dy: dy.basePointer, mean: mean.basePointer,
                                                           rstd: rstd.basePointer, dgamma: dg, dbeta: db, rows: rows,
                                                           cols: cols, blockWidth: width)
        Parallel.run(parameterTask, count: (cols + width - 1) / width, workPerItem: rows * width * 2)
    }
}

/// dx of `layerNormBackward` for a range of rows.
struct LayerNormInputGradientTask: ParallelTask {
    let x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, dy: UnsafePointer<Float>
    let mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
    let cols: Int

    func run(_ rows: Range<Int>) {
        let o = rows.lowerBound * cols
        drl_layernorm_backward_rows(x + o, gamma, dy + o, mean + rows.lowerBound, rstd + rows.lowerBound, dx + o,
                                    nil, nil, rows.count, cols)
    }
}

/// The gamma and beta gradients of `layerNormBackward` for a range of column blocks.
struct LayerNormParameterGradientTask: ParallelTask {
    let x: UnsafePointer<Float>, dy: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>
    let dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?
    let rows: Int, cols: Int, blockWidth: Int

    func run(_ blocks: Range<Int>) {
        let c0 = blocks.lowerBound * blockWidth, c1 = min(cols, blocks.upperBound * blockWidth)
        drl_layernorm_parameter_gradients(x + c0, dy + c0, mean, rstd, dgamma.map { $0 + c0 }, dbeta.map { $0 + c0 },
                                          rows, c1 - c0, cols)
    }
}
