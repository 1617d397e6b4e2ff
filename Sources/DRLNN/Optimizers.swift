import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Updates a `ParameterStore`'s values from its gradients. Frozen parameters are skipped.
public protocol Optimizer: AnyObject {
    var store: ParameterStore { get }
    /// Learning rate used by the next step (a `LearningRateSchedule` may set it each step).
    var learningRate: Float { get set }
    /// Steps taken so far.
    var step: Int { get }
    /// Applies one step from the current gradients. Throws, and changes nothing, when a gradient is
    /// NaN or infinite: a NaN is reported, never trained on.
    func update() throws(NonFiniteError)
    /// The optimizer's state tensors with stable names (for checkpoints), plus the step count.
    var state: [(name: String, tensor: Tensor)] { get }
    /// Restores the step count (the state tensors are restored in place through `state`).
    func restore(step: Int)
}

/// Adam (Kingma & Ba) with optional L2 weight decay, or AdamW (decoupled weight decay,
/// Loshchilov & Hutter) — the same update as PyTorch's torch.optim.Adam / AdamW.
public final class Adam: Optimizer {
    public let store: ParameterStore
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public let decoupledWeightDecay: Bool
    public private(set) var step = 0
    private let m: Tensor, v: Tensor

    public init(_ store: ParameterStore, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        require(learningRate >= 0 && (0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon > 0 && weightDecay >= 0,
                "Adam: invalid hyperparameters lr \(learningRate), betas (\(beta1), \(beta2)), eps \(epsilon), weight decay \(weightDecay)")
        self.store = store
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        m = Tensor(workspace: Shape(store.count))
        v = Tensor(workspace: Shape(store.count))
    }

    /// AdamW with PyTorch's default weight decay of 0.01.
    public static func adamW(_ store: ParameterStore, learningRate: Float = 1e-3, beta1: Float = 0.9,
                             beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-2) -> Adam {
        Adam(store, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
             decoupledWeightDecay: true)
    }

    public func update() throws(NonFiniteError) {
        if let bad = store.firstNonFinite() { throw bad }
        step += 1
        store.forEachTrainableRun { range in
            var w = store.values[rows: range], mm = m[rows: range], vv = v[rows: range]
            adamUpdate(weights: &w, gradients: store.gradients[rows: range], m: &mm, v: &vv, step: step,
                       learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                       weightDecay: weightDecay, decoupledWeightDecay: decoupledWeightDecay)
        }
    }

    public var state: [(name: String, tensor: Tensor)] { [("adam.m", m), ("adam.v", v)] }
    public func restore(step: Int) { self.step = step }
}

/// Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and L2 weight
/// decay, as torch.optim.SGD without dampening.
public final class SGD: Optimizer {
    public let store: ParameterStore
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float, nesterov: Bool
    public private(set) var step = 0
    private let buffer: Tensor

    public init(_ store: ParameterStore, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0,
                nesterov: Bool = false) {
        require(learningRate >= 0 && momentum >= 0 && weightDecay >= 0 && (!nesterov || momentum > 0),
                "SGD: invalid hyperparameters lr \(learningRate), momentum \(momentum), weight decay \(weightDecay), nesterov \(nesterov)")
        self.store = store
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffer = Tensor(workspace: Shape(momentum == 0 ? 0 : store.count))
    }

    public func update() throws(NonFiniteError) {
        if let bad = store.firstNonFinite() { throw bad }
        step += 1
        store.forEachTrainableRun { range in
            var w = store.values[rows: range]
            var b = momentum == 0 ? buffer : buffer[rows: range]
            sgdUpdate(weights: &w, gradients: store.gradients[rows: range], momentumBuffer: &b, learningRate: learningRate,
                      momentum: momentum, weightDecay: weightDecay, nesterov: nesterov, firstStep: step == 1)
        }
    }

    public var state: [(name: String, tensor: Tensor)] { momentum == 0 ? [] : [("sgd.momentum", buffer)] }
    public func restore(step: Int) { self.step = step }
}

/// Learning rate as a function of the step (counted from 0).
public enum LearningRateSchedule: Sendable {
    case constant(Float)
    /// Linear warm-up from 0 to `peak` over `warmupSteps`, then constant.
    case linearWarmup(peak: Float, warmupSteps: Int)
    /// Linear warm-up, then cosine decay from `peak` to `minimum` at `totalSteps` (and `minimum` after).
    case cosine(peak: Float, minimum: Float = 0, warmupSteps: Int = 0, totalSteps: Int)
    /// Linear from `start` at step 0 to `end` at `totalSteps` (and `end` after), as
    /// Stable-Baselines3's linear schedules.
    case linear(start: Float, end: Float, totalSteps: Int)

    public func learningRate(at step: Int) -> Float {
        switch self {
        case .constant(let lr): return lr
        case .linearWarmup(let peak, let warmup):
            return warmup > 0 && step < warmup ? peak * Float(step + 1) / Float(warmup) : peak
        case .cosine(let peak, let minimum, let warmup, let total):
            if warmup > 0 && step < warmup { return peak * Float(step + 1) / Float(warmup) }
            let span = max(total - warmup, 1)
            let progress = min(Float(step - warmup) / Float(span), 1)
            return minimum + (peak - minimum) * 0.5 * (1 + cosf(Float.pi * progress))
        case .linear(let start, let end, let total):
            let progress = min(Float(step) / Float(max(total, 1)), 1)
            return start + (end - start) * progress
        }
    }
}
