import DRLTensor

/// The set of valid observations or actions.
public enum Space: Sendable, Equatable {
    /// Integers 0..<n.
    case discrete(Int)
    /// Float vectors with per-component bounds (infinite bounds allowed).
    case box(low: [Float], high: [Float])
    /// An ordered choice of `k` distinct items out of `candidates` (a ranked list, top-K).
    case slate(candidates: Int, k: Int)
    /// Several discrete choices made together, choice i in 0..<choices[i] (Gymnasium's
    /// MultiDiscrete; for example a lesson's difficulty and its content type).
    case multiDiscrete([Int])

    /// Number of Float components of an element (1 for discrete, k for a slate, one per choice of a multi-discrete space).
    public var dimension: Int {
        switch self {
        case .discrete: return 1
        case .box(let low, _): return low.count
        case .slate(_, let k): return k
        case .multiDiscrete(let choices): return choices.count
        }
    }
}

/// An action for `Environment.step`.
public enum Action {
    case discrete(Int)
    /// A continuous action (the elements of the tensor, in the action space's bounds).
    case continuous(Tensor)
    /// Item indices, best first.
    case slate([Int32])
    /// One index per choice of a `.multiDiscrete` space.
    case multiDiscrete([Int32])
}

/// What one step returned besides the observation (Gymnasium's reward, terminated, truncated, info).
public struct StepResult: Sendable {
    public var reward: Float
    /// The episode ended in a terminal state (no bootstrapping from the next observation).
    public var terminated: Bool
    /// The episode was cut off (time limit): the next observation's value still counts.
    public var truncated: Bool
    /// Extra diagnostics by name.
    public var info: [String: Float]

    public init(reward: Float, terminated: Bool, truncated: Bool, info: [String: Float] = [:]) {
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
        self.info = info
    }
}

/// An environment in Gymnasium's shape. Observations are written into a caller's tensor of
/// `observationSpace.dimension` elements, so a training loop allocates nothing per step.
public protocol Environment: AnyObject {
    var observationSpace: Space { get }
    var actionSpace: Space { get }
    /// Starts an episode and writes its first observation. A seed re-seeds the environment's
    /// generator, which makes the episode (and every later one) reproducible.
    func reset(seed: UInt64?, observation: inout Tensor)
    /// Applies `action` and writes the next observation.
    func step(_ action: Action, observation: inout Tensor) -> StepResult
}
