import DRLTensor

/// Why an agent is acting: to learn, or to show what it has learned.
public enum ActionMode: Sendable, Equatable {
    /// As while training: ε-greedy (DQN), sampled from the policy (SAC, discrete SAC, A2C) or with
    /// exploration noise (TD3). Draws from the agent's generator.
    case explore
    /// The policy's own action: greedy in Q, the most probable, or the mean. Draws nothing from the
    /// agent's generator, so evaluating between training steps leaves training's numbers unchanged.
    case greedy
}

/// Chooses an environment action for an observation: every agent acts through this one method,
/// whatever its kind of action, so evaluation, serving and tests need not know which agent it is.
public protocol Policy: AnyObject {
    /// The action for one observation [observation dimension], in the environment's terms
    /// (`.discrete`, `.continuous` or `.multiDiscrete`). A `.continuous` action's tensor is the
    /// agent's own buffer, valid until its next `act`.
    func act(_ observation: Tensor, mode: ActionMode) -> Action
}
