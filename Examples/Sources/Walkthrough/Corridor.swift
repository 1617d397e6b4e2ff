import DRLAgents
import DRLTensor

/// An environment of your own: walk from the left end of a corridor to the exit on the right in
/// at most 30 steps. Each step costs 0.1 and reaching the exit earns 1, so the best policy walks
/// straight right (return 1 − 0.1 · steps). Discrete actions are left, stay and right; box actions
/// are a velocity in [−1, 1]. The observation is the position in [−1, 1] and the time left.
public final class Corridor: Environment {
    public let observationSpace = Space.box(low: [-1, 0], high: [1, 1])
    public let actionSpace: Space
    private var position: Float = -1
    private var step = 0
    private let maxSteps = 30
    private let stride: Float = 0.25

    public init(continuous: Bool) {
        actionSpace = continuous ? .box(low: [-1], high: [1]) : .discrete(3)
    }

    public func reset(seed: UInt64?, observation: inout Tensor) {
        (position, step) = (-1, 0)
        write(&observation)
    }

    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        let velocity: Float
        switch action {
        case .discrete(let choice): velocity = Float(choice - 1)
        case .continuous(let values): velocity = min(max(values[flat: 0], -1), 1)
        default: requirementFailure("Corridor takes discrete or box actions, got \(action)")
        }
        position = min(max(position + stride * velocity, -1), 1)
        step += 1
        write(&observation)
        let arrived = position >= 1
        return StepResult(reward: arrived ? 1 : -0.1, terminated: arrived, truncated: !arrived && step == maxSteps)
    }

    private func write(_ observation: inout Tensor) {
        observation[flat: 0] = position
        observation[flat: 1] = Float(maxSteps - step) / Float(maxSteps)
    }
}
