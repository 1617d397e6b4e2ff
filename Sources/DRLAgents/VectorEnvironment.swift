import DRLTensor

/// Several copies of an environment stepped together, with observations stacked into one
/// [copies, dimension] tensor for batched policies. A copy whose episode ends is reset at once
/// (its `finalObservations` row keeps the observation that ended the episode, for bootstrapping
/// after truncation). Copy i is seeded with `seed + i`.
public final class VectorEnvironment {
    public let environments: [Environment]
    public private(set) var observations: Tensor
    public private(set) var finalObservations: Tensor
    public private(set) var rewards: Tensor
    public private(set) var terminated: [Bool]
    public private(set) var truncated: [Bool]
    /// Sum of rewards of each copy's current episode, and the returns of the episodes that ended
    /// in the last `step`.
    public private(set) var episodeReturns: [Float]
    public private(set) var finishedReturns: [Float] = []
    private var row: Tensor

    public init(_ environments: [Environment]) {
        require(!environments.isEmpty, "VectorEnvironment needs at least one environment")
        let dimension = environments[0].observationSpace.dimension
        require(environments.allSatisfy { $0.observationSpace == environments[0].observationSpace },
                "VectorEnvironment: the environments' observation spaces differ")
        self.environments = environments
        observations = Tensor(workspace: Shape(environments.count, dimension))
        finalObservations = Tensor(workspace: Shape(environments.count, dimension))
        rewards = Tensor(workspace: Shape(environments.count))
        terminated = Array(repeating: false, count: environments.count)
        truncated = terminated
        episodeReturns = Array(repeating: 0, count: environments.count)
        finishedReturns.reserveCapacity(environments.count)
        row = Tensor(workspace: Shape(dimension))
    }

    public var count: Int { environments.count }

    public func reset(seed: UInt64) {
        for (i, env) in environments.enumerated() {
            env.reset(seed: seed &+ UInt64(i), observation: &row)
            var target = observations[row: i]
            target.copy(from: row)
            episodeReturns[i] = 0
        }
    }

    /// Steps every copy with `action(i)`.
    public func step(_ action: (Int) -> Action) {
        finishedReturns.removeAll(keepingCapacity: true)
        for (i, env) in environments.enumerated() {
            let result = env.step(action(i), observation: &row)
            rewards[flat: i] = result.reward
            terminated[i] = result.terminated
            truncated[i] = result.truncated
            episodeReturns[i] += result.reward
            var target = observations[row: i]
            if result.terminated || result.truncated {
                var final = finalObservations[row: i]
                final.copy(from: row)
                finishedReturns.append(episodeReturns[i])
                episodeReturns[i] = 0
                env.reset(seed: nil, observation: &row)
            }
            target.copy(from: row)
        }
    }

    /// Sets the copies' current observations and running episode returns, after their
    /// environments' own states were restored (resuming a saved run).
    func restore(observations rows: [[Float]], episodeReturns returns: [Float]) {
        require(rows.count == count && returns.count == count, "VectorEnvironment.restore: \(rows.count) observations and \(returns.count) returns for \(count) copies")
        for (i, values) in rows.enumerated() {
            for (j, value) in values.enumerated() { observations[i, j] = value }
        }
        episodeReturns = returns
    }
}
