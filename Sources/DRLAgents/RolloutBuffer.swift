import DRLTensor

/// On-policy storage for `steps` × `environments` transitions with generalised advantage
/// estimation (Schulman et al.): δₜ = rₜ + γ·V(sₜ₊₁)·(1 − doneₜ) − V(sₜ),
/// Aₜ = δₜ + γλ·(1 − doneₜ)·Aₜ₊₁, returns = A + V. `done` marks terminal steps; for a truncated
/// episode add γ·V(final observation) to its last reward before computing (the usual bootstrap).
public final class RolloutBuffer {
    public let steps: Int, environments: Int, observationDimension: Int
    public var observations: Tensor     // [steps, environments, dimension]
    public var actions: Tensor          // [steps, environments, actionDimension]
    public var rewards: Tensor, values: Tensor, dones: Tensor, logProbabilities: Tensor  // [steps, environments]
    public var advantages: Tensor, returns: Tensor
    public private(set) var position = 0

    public init(steps: Int, environments: Int, observationDimension: Int, actionDimension: Int = 1) {
        require(steps > 0 && environments > 0 && observationDimension > 0 && actionDimension > 0,
                "RolloutBuffer needs positive sizes")
        self.steps = steps
        self.environments = environments
        self.observationDimension = observationDimension
        observations = Tensor(workspace: Shape(steps, environments, observationDimension))
        actions = Tensor(workspace: Shape(steps, environments, actionDimension))
        rewards = Tensor(workspace: Shape(steps, environments))
        values = Tensor(workspace: Shape(steps, environments))
        dones = Tensor(workspace: Shape(steps, environments))
        logProbabilities = Tensor(workspace: Shape(steps, environments))
        advantages = Tensor(workspace: Shape(steps, environments))
        returns = Tensor(workspace: Shape(steps, environments))
    }

    public var isFull: Bool { position == steps }

    /// Stores one step of every environment.
    public func add(observations o: Tensor, actions a: Tensor, rewards r: Tensor, values v: Tensor, dones d: [Bool],
                    logProbabilities lp: Tensor? = nil) {
        require(!isFull, "RolloutBuffer.add: the buffer holds \(steps) steps already; call reset()")
        require(d.count == environments, "RolloutBuffer.add: \(d.count) done flags for \(environments) environments")
        var ro = observations[row: position], ra = actions[row: position]
        ro.copy(from: o)
        ra.copy(from: a)
        for e in 0..<environments {
            rewards[position, e] = r[flat: e]
            values[position, e] = v[flat: e]
            dones[position, e] = d[e] ? 1 : 0
            logProbabilities[position, e] = lp?[flat: e] ?? 0
        }
        position += 1
    }

    /// Computes advantages and returns, bootstrapping from `lastValues` (V of the observations after
    /// the last step).
    public func computeAdvantages(lastValues: Tensor, gamma: Float, lambda: Float) {
        require(isFull, "computeAdvantages: the buffer holds \(position) of \(steps) steps")
        require(lastValues.count == environments, "computeAdvantages: \(lastValues.count) last values for \(environments) environments")
        for e in 0..<environments {
            var next: Float = 0
            var nextValue = lastValues[flat: e]
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let notDone = 1 - dones[t, e]
                let delta = rewards[t, e] + gamma * nextValue * notDone - values[t, e]
                next = delta + gamma * lambda * notDone * next
                advantages[t, e] = next
                returns[t, e] = next + values[t, e]
                nextValue = values[t, e]
            }
        }
    }

    public func reset() { position = 0 }
}
