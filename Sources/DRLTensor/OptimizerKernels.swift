import CDRLKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Fused, vectorised parameter updates over flat buffers (one pass per step, no temporaries).

/// Adam/AdamW update of `weights` from `gradients` with first and second moments `m`, `v` (all of
/// one size). `step` counts from 1 (bias correction). `decoupledWeightDecay` selects AdamW.
public func adamUpdate(weights: inout Tensor, gradients: Tensor, m: inout Tensor, v: inout Tensor, step: Int,
                       learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
                       decoupledWeightDecay: Bool) {
    require(gradients.count == weights.count && m.count == weights.count && v.count == weights.count,
            "adamUpdate: weights \(weights.shape), gradients \(gradients.shape), m \(m.shape), v \(v.shape) differ in size")
    require(step >= 1, "adamUpdate: step counts from 1, got \(step)")
    weights.makeUnique()
    m.makeUnique()
    v.makeUnique()
    let task = AdamTask(w: weights.basePointer, g: gradients.basePointer, m: m.basePointer, v: v.basePointer,
                        learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                        weightDecay: weightDecay, decoupled: decoupledWeightDecay,
                        c1: 1 - powf(beta1, Float(step)), c2: 1 - powf(beta2, Float(step)))
    withExtendedLifetime(gradients) { Parallel.run(task, count: weights.count, workPerItem: 2) }
}

/// SGD update (PyTorch's form, no dampening). `momentumBuffer` is needed when momentum ≠ 0;
/// `firstStep` initialises it with the gradient.
public func sgdUpdate(weights: inout Tensor, gradients: Tensor, momentumBuffer: inout Tensor, learningRate: Float,
                      momentum: Float, weightDecay: Float, nesterov: Bool, firstStep: Bool) {
    require(gradients.count == weights.count && (momentum == 0 || momentumBuffer.count == weights.count),
            "sgdUpdate: weights \(weights.shape), gradients \(gradients.shape), buffer \(momentumBuffer.shape) differ in size")
    weights.makeUnique()
    momentumBuffer.makeUnique()
    let task = SGDTask(w: weights.basePointer, g: gradients.basePointer,
                       buffer: momentum == 0 ? nil : momentumBuffer.basePointer, learningRate: learningRate,
                       momentum: momentum, weightDecay: weightDecay, nesterov: nesterov, first: firstStep)
    withExtendedLifetime(gradients) { Parallel.run(task, count: weights.count, workPerItem: 1) }
}

struct AdamTask: ParallelTask {
    let w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupled: Bool
    let c1: Float, c2: Float

    func run(_ items: Range<Int>) {
        let o = items.lowerBound
        drl_adam_update(w + o, g + o, m + o, v + o, items.count, learningRate, beta1, beta2, epsilon, weightDecay,
                        decoupled ? 1 : 0, c1, c2)
    }
}

struct SGDTask: ParallelTask {
    let w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>?
    let learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool, first: Bool

    func run(_ items: Range<Int>) {
        let o = items.lowerBound
        drl_sgd_update(w + o, g + o, buffer.map { $0 + o }, items.count, learningRate, momentum, weightDecay,
                       nesterov ? 1 : 0, first ? 1 : 0)
    }
}
