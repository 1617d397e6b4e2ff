import DRLNN
import DRLTensor

/// Bootstrapped Q-learning targets y = r + γᵐ·(1 − done)·Q_target(s′, a*) for a sampled batch, with
/// a* the online network's argmax (Double DQN, van Hasselt et al.) or the target network's own:
/// what DQN and CQL share. `greedy` is scratch for the argmax.
func qLearningTargets(online: Sequential, target: Sequential, batch: TransitionBatch, double: Bool,
                      greedy: inout [Int32], into targets: inout Tensor) {
    if double { rowArgmax(online.forward(batch.nextObservations), into: &greedy) }
    let qNextTarget = target.forward(batch.nextObservations)
    if !double { rowArgmax(qNextTarget, into: &greedy) }
    for i in 0..<batch.size {
        let bootstrap = qNextTarget[i, Int(greedy[i])]
        targets[flat: i] = batch.rewards[flat: i] + batch.discounts[flat: i] * (1 - batch.dones[flat: i]) * bootstrap
    }
}
