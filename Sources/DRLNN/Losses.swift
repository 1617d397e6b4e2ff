import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Losses with fused forward and backward: calling a loss returns its value and leaves the
// gradient with respect to the prediction in `gradient` (a buffer of the loss, valid until the next
// call). Reductions are means, as PyTorch's defaults.

/// Runs `term(i, p, t) -> (loss, gradient)` over every element pair, writes the gradients into
/// `gradient` and returns the sum of the losses (in Double). The sum is returned from the closures
/// rather than accumulated in a captured variable, which the compiler may box on the heap.
func elementwiseLoss(_ prediction: Tensor, _ target: Tensor, gradient: inout Tensor,
                     _ term: (Int, Float, Float) -> (loss: Float, gradient: Float)) -> Double {
    prediction.withUnsafeBufferPointer { p in
        target.withUnsafeBufferPointer { t in
            gradient.withUnsafeMutableBufferPointer { g in
                var sum: Double = 0
                for i in 0..<p.count {
                    let (loss, slope) = term(i, p[i], t[i])
                    sum += Double(loss)
                    g[i] = slope
                }
                return sum
            }
        }
    }
}

/// Mean squared error: mean((p − t)²) over all elements.
public final class MSELoss {
    public private(set) var gradient = Tensor(zeros: Shape(0))
    private var buffer = Buffer()

    public init() {}

    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) -> Float {
        require(prediction.shape == target.shape, "MSELoss: prediction \(prediction.shape) and target \(target.shape) differ")
        gradient = buffer.view(prediction.shape)
        let scale = 2 / Float(prediction.count)
        let total = elementwiseLoss(prediction, target, gradient: &gradient) { _, p, t in
            let d = p - t
            return (d * d, scale * d)
        }
        return Float(total / Double(prediction.count))
    }
}

/// Huber loss (smooth L1 scaled by delta): 0.5·d² where |d| < delta, else delta·(|d| − 0.5·delta),
/// averaged over all elements; as torch.nn.HuberLoss(delta). DQN's usual loss. Optional
/// per-element weights multiply each term (importance weights in prioritised replay).
public final class HuberLoss {
    public let delta: Float
    public private(set) var gradient = Tensor(zeros: Shape(0))
    private var buffer = Buffer()

    public init(delta: Float = 1) {
        require(delta > 0, "HuberLoss: delta must be positive, got \(delta)")
        self.delta = delta
    }

    public func callAsFunction(_ prediction: Tensor, _ target: Tensor, weights: Tensor? = nil) -> Float {
        require(prediction.shape == target.shape, "HuberLoss: prediction \(prediction.shape) and target \(target.shape) differ")
        require(weights.map { $0.count == prediction.count } ?? true,
                "HuberLoss: weights \(weights?.shape.description ?? "") need \(prediction.count) elements")
        gradient = buffer.view(prediction.shape)
        let inv = 1 / Float(prediction.count), delta = self.delta
        let total = elementwiseLoss(prediction, target, gradient: &gradient) { i, p, t in
            let d = p - t, a = abs(d), w = weights?[flat: i] ?? 1
            let (loss, slope) = a < delta ? (0.5 * d * d, d) : (delta * (a - 0.5 * delta), d > 0 ? delta : -delta)
            return (w * loss, w * slope * inv)
        }
        return Float(total / Double(prediction.count))
    }
}

/// Softmax cross-entropy over logits [batch, classes] with integer targets:
/// mean over the batch of w_i·(logsumexp(z_i) − z_i[t_i]), with optional per-sample weights w (1
/// by default; importance weights in off-policy learning). Gradient: w_i·(softmax(z_i) − onehot)/batch.
public final class SoftmaxCrossEntropyLoss {
    public private(set) var gradient = Tensor(zeros: Shape(0, 0))
    /// logsumexp of each row of the last call's logits (so log softmax(z)[a] = z[a] − this).
    public private(set) var logSumExps = Tensor(zeros: Shape(0))
    private var buffer = Buffer()
    private var logSumExp = Buffer()

    public init() {}

    public func callAsFunction(_ logits: Tensor, targets: [Int32], weights: Tensor? = nil) -> Float {
        let (rows, cols) = logits.shape.matrix
        require(targets.count == rows, "SoftmaxCrossEntropyLoss: \(targets.count) targets for logits \(logits.shape)")
        require(weights.map { $0.count == rows } ?? true,
                "SoftmaxCrossEntropyLoss: weights \(weights?.shape.description ?? "") need \(rows) elements")
        gradient = buffer.view(logits.shape)
        var lse = logSumExp.view(Shape(rows))
        softmax(logits, into: &gradient, logSumExp: &lse)
        logSumExps = lse
        let inv = 1 / Float(rows)
        // The sum is returned from the closures rather than accumulated in a captured variable,
        // which the compiler may box on the heap.
        let total: Double = logits.withUnsafeBufferPointer { z in
            gradient.withUnsafeMutableBufferPointer { g in
                lse.withUnsafeBufferPointer { l in
                    targets.withUnsafeBufferPointer { t in
                        var sum: Double = 0
                        for r in 0..<rows {
                            let target = Int(t[r])
                            require(target >= 0 && target < cols,
                                    "SoftmaxCrossEntropyLoss: target \(target) at row \(r) is outside 0..<\(cols)")
                            let w = weights?[flat: r] ?? 1
                            sum += Double(w * (l[r] - z[r * cols + target]))
                            let row = g.baseAddress! + r * cols
                            row[target] -= 1
                            let scale = w * inv
                            for c in 0..<cols { row[c] *= scale }
                        }
                        return sum
                    }
                }
            }
        }
        return Float(total / Double(rows))
    }
}

/// Binary cross-entropy on logits, mean over all elements:
/// max(z, 0) − z·t + log(1 + exp(−|z|)), stable for any z; gradient (sigmoid(z) − t)/n.
public final class BinaryCrossEntropyWithLogitsLoss {
    public private(set) var gradient = Tensor(zeros: Shape(0))
    private var buffer = Buffer()

    public init() {}

    public func callAsFunction(_ logits: Tensor, _ targets: Tensor) -> Float {
        require(logits.shape == targets.shape, "BinaryCrossEntropyWithLogitsLoss: logits \(logits.shape) and targets \(targets.shape) differ")
        gradient = buffer.view(logits.shape)
        let inv = 1 / Float(logits.count)
        let total = elementwiseLoss(logits, targets, gradient: &gradient) { _, z, t in
            let e = expf(-abs(z))
            let sigmoid = z >= 0 ? 1 / (1 + e) : e / (1 + e)
            return (max(z, 0) - z * t + log1pf(e), (sigmoid - t) * inv)
        }
        return Float(total / Double(logits.count))
    }
}

/// Mean entropy of the categorical distributions softmax(z) over rows of logits [batch, classes]:
/// H = −Σ p log p per row. Gradient with respect to z: −p ⊙ (log p + H) / batch. For entropy
/// regularisation subtract β·H from the loss (and scale the gradient by −β).
public final class CategoricalEntropy {
    public private(set) var gradient = Tensor(zeros: Shape(0, 0))
    private var probabilities = Buffer()
    private var logProbabilities = Buffer()

    public init() {}

    public func callAsFunction(_ logits: Tensor) -> Float {
        let (rows, cols) = logits.shape.matrix
        var p = probabilities.view(logits.shape)
        var logp = logProbabilities.view(logits.shape)
        softmax(logits, into: &p)
        logSoftmax(logits, into: &logp)
        gradient = logp
        let total: Double = p.withUnsafeBufferPointer { pp in
            gradient.withUnsafeMutableBufferPointer { g in
                let inv = 1 / Float(rows)
                var sum: Double = 0
                for r in 0..<rows {
                    let row = r * cols
                    var h: Float = 0
                    // 0·log 0 = 0: masked (-inf) entries contribute nothing.
                    for c in 0..<cols where pp[row + c] > 0 { h -= pp[row + c] * g[row + c] }
                    sum += Double(h)
                    for c in 0..<cols { g[row + c] = pp[row + c] > 0 ? -pp[row + c] * (g[row + c] + h) * inv : 0 }
                }
                return sum
            }
        }
        return Float(total / Double(rows))
    }
}

/// The expected value of a known value per class under the categorical distributions softmax(z),
/// over rows of logits [batch, classes]: mean over the batch of w_i·Σ_c softmax(z_i)_c·v_c, with
/// values v [classes] shared by every row or [batch, classes] one row each, and optional per-row
/// weights w. When the reward of every action is known this is the exact policy objective, with no
/// sampled action and no importance weight (subtract it from a loss to maximise it). Gradient with
/// respect to z: w_i·p_i ⊙ (v_i − E_i)/batch, where E_i is row i's expectation.
public final class SoftmaxExpectation {
    public private(set) var gradient = Tensor(zeros: Shape(0, 0))
    private var buffer = Buffer()

    public init() {}

    public func callAsFunction(_ logits: Tensor, values: Tensor, weights: Tensor? = nil) -> Float {
        let (rows, cols) = logits.shape.matrix
        require(values.count == cols || values.shape == logits.shape,
                "SoftmaxExpectation: values \(values.shape) must be [\(cols)] or the logits' shape \(logits.shape)")
        require(weights.map { $0.count == rows } ?? true,
                "SoftmaxExpectation: weights \(weights?.shape.description ?? "") need \(rows) elements")
        gradient = buffer.view(logits.shape)
        softmax(logits, into: &gradient)
        let valueStride = values.count == cols ? 0 : cols, inv = 1 / Float(rows)
        let total: Double = values.withUnsafeBufferPointer { v in
            gradient.withUnsafeMutableBufferPointer { g in
                var sum: Double = 0
                for r in 0..<rows {
                    let p = g.baseAddress! + r * cols, value = v.baseAddress! + r * valueStride
                    var expected: Float = 0
                    for c in 0..<cols { expected += p[c] * value[c] }
                    let w = weights?[flat: r] ?? 1
                    sum += Double(w * expected)
                    let scale = w * inv
                    for c in 0..<cols { p[c] *= scale * (value[c] - expected) }
                }
                return sum
            }
        }
        return Float(total / Double(rows))
    }
}
