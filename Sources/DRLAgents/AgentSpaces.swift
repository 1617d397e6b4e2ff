import DRLTensor

/// The checks that keep an agent and its environments the same size. An agent built for other
/// sizes than its environment would fail deep inside a network, or, with an action count that
/// happens to fit the network, learn from actions the environment never takes; so the mismatch is
/// refused where the two meet, naming both sides.
extension Space {
    /// The action count of a discrete space, for `agent`'s initialiser; traps for any other space.
    func discreteActionCount(for agent: String) -> Int {
        guard case .discrete(let count) = self else { requirementFailure("\(agent) needs a discrete action space; got \(self)") }
        return count
    }

    /// The bounds of a box space, for `agent`'s initialiser; traps for any other space.
    func boxBounds(for agent: String) -> (low: [Float], high: [Float]) {
        guard case .box(let low, let high) = self else { requirementFailure("\(agent) needs a box action space; got \(self)") }
        return (low, high)
    }

    /// The space as actions, in words that give its size.
    var actionWording: String {
        switch self {
        case .discrete(let count): return "\(count) discrete actions"
        case .box(let low, let high): return "\(low.count)-dimensional box actions from \(low) to \(high)"
        case .slate(let candidates, let k): return "slates of \(k) of \(candidates) items"
        case .multiDiscrete(let choices): return "\(choices.count) discrete choices of \(choices) options"
        }
    }
}

/// Traps unless `environment` (the loop's `role` environment) has `observationDimension`-element
/// observations and exactly `actionSpace`, the sizes `agent` was built for.
func requireFit(of environment: Environment, role: String, agent: AnyObject, observationDimension: Int, actionSpace: Space) {
    let observed = environment.observationSpace.dimension
    require(observed == observationDimension,
            "train: the \(role) environment (\(type(of: environment))) has \(observed)-dimensional observations; the \(type(of: agent)) expects \(observationDimension)")
    require(environment.actionSpace == actionSpace,
            "train: the \(role) environment (\(type(of: environment))) takes \(environment.actionSpace.actionWording); the \(type(of: agent)) acts with \(actionSpace.actionWording)")
}

/// Traps when the loop would evaluate on an environment it trains on: every evaluation resets
/// the environment, which would cut the training episode in progress short and silently corrupt
/// the run.
func requireSeparate(training: Environment, evaluation: Environment) {
    require(training !== evaluation,
            "train: the training and evaluation environments are the same \(type(of: training)) instance; evaluating resets it in the middle of a training episode, so pass a separate instance as evaluationEnvironment")
}
