import DRLTensor

/// Turns one-step transitions of one environment into n-step ones:
/// (sₜ, aₜ, Σₖ γᵏ rₜ₊ₖ, sₜ₊ₘ, done, γᵐ) with m = n, or fewer when the episode ends first. At an
/// episode's end every pending transition is flushed with the steps it has.
public final class NStepAccumulator {
    public let steps: Int, gamma: Float
    private var observations: Tensor, actions: Tensor
    private var rewards: [Float]
    private var start = 0, pending = 0

    public init(steps: Int, gamma: Float, observationDimension: Int, actionDimension: Int = 1) {
        require(steps >= 1 && gamma >= 0 && gamma <= 1, "NStepAccumulator: steps \(steps) ≥ 1, gamma \(gamma) in [0, 1]")
        self.steps = steps
        self.gamma = gamma
        observations = Tensor(workspace: Shape(steps, observationDimension))
        actions = Tensor(workspace: Shape(steps, actionDimension))
        rewards = Array(repeating: 0, count: steps)
    }

    /// Records a step; `emit` receives every n-step transition it completes:
    /// (observation, action, return, next observation, done, discount).
    public func add(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, terminated: Bool,
                    truncated: Bool, emit: (Tensor, Tensor, Float, Tensor, Bool, Float) -> Void) {
        let slot = (start + pending) % steps
        var o = observations[row: slot], a = actions[row: slot]
        o.copy(from: observation.reshaped(o.shape))
        a.copy(from: action.reshaped(a.shape))
        rewards[slot] = reward
        pending += 1
        if terminated || truncated {
            while pending > 0 { emitOldest(nextObservation, done: terminated, emit) }
        } else if pending == steps {
            emitOldest(nextObservation, done: false, emit)
        }
    }

    private func emitOldest(_ next: Tensor, done: Bool, _ emit: (Tensor, Tensor, Float, Tensor, Bool, Float) -> Void) {
        var total: Float = 0, factor: Float = 1
        for k in 0..<pending {
            total += factor * rewards[(start + k) % steps]
            factor *= gamma
        }
        emit(observations[row: start], actions[row: start], total, next, done, factor)
        start = (start + 1) % steps
        pending -= 1
    }

    /// The pending transitions as exact text for a checkpoint: start and count, then the
    /// observations, actions and rewards (Floats as bit patterns).
    var stateDescription: String {
        "\(start)|\(pending)|" + FloatText.encode(observations.scalars) + "|" + FloatText.encode(actions.scalars) + "|"
            + FloatText.encode(rewards)
    }

    /// Restores a state written by `stateDescription` into an accumulator of the same sizes;
    /// false (nothing changed) when the text does not fit.
    func restore(stateDescription text: String) -> Bool {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 5, let start = Int(parts[0]), let pending = Int(parts[1]),
              (0..<steps).contains(start), (0...steps).contains(pending),
              let o = FloatText.decode(String(parts[2])), o.count == observations.count,
              let a = FloatText.decode(String(parts[3])), a.count == actions.count,
              let r = FloatText.decode(String(parts[4])), r.count == steps else { return false }
        (self.start, self.pending, rewards) = (start, pending, r)
        for (i, value) in o.enumerated() { observations[flat: i] = value }
        for (i, value) in a.enumerated() { actions[flat: i] = value }
        return true
    }
}
