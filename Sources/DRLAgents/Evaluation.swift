import DRLTensor

/// Mean undiscounted return of `episodes` episodes of `policy` (observation → action), each
/// started with its own seed so that the evaluation is reproducible.
public func evaluate(_ environment: Environment, episodes: Int, seed: UInt64, policy: (Tensor) -> Action) -> Float {
    precondition(episodes > 0, "evaluate needs at least one episode")
    var observation = Tensor(zeros: Shape(environment.observationSpace.dimension))
    var total: Float = 0
    for episode in 0..<episodes {
        environment.reset(seed: seed &+ UInt64(episode), observation: &observation)
        while true {
            let result = environment.step(policy(observation), observation: &observation)
            total += result.reward
            if result.terminated || result.truncated { break }
        }
    }
    return total / Float(episodes)
}
