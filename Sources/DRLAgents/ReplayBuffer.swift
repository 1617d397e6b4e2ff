import DRLTensor

/// Preallocated ring buffer of transitions (s, a, r, s', done, γᵏ) in struct-of-arrays layout.
/// `done` is true only for terminal transitions (truncation still bootstraps); `discount` is the
/// factor for the bootstrap term, γ for one-step transitions and γⁿ for n-step ones. Sampling
/// writes into a preallocated `TransitionBatch` and allocates nothing.
public final class ReplayBuffer {
    public let capacity: Int, observationDimension: Int, actionDimension: Int
    public private(set) var count = 0
    private var position = 0
    let observations: Tensor, nextObservations: Tensor, actions: Tensor, rewards: Tensor, dones: Tensor, discounts: Tensor

    /// `actionDimension` is 1 for discrete actions (stored as Float indices).
    public init(capacity: Int, observationDimension: Int, actionDimension: Int = 1) {
        require(capacity > 0 && observationDimension > 0 && actionDimension > 0,
                "ReplayBuffer(capacity \(capacity), observations \(observationDimension), actions \(actionDimension)) needs positive sizes")
        self.capacity = capacity
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        observations = Tensor(workspace: Shape(capacity, observationDimension))
        nextObservations = Tensor(workspace: Shape(capacity, observationDimension))
        actions = Tensor(workspace: Shape(capacity, actionDimension))
        rewards = Tensor(workspace: Shape(capacity))
        dones = Tensor(workspace: Shape(capacity))
        discounts = Tensor(workspace: Shape(capacity))
    }

    /// Forgets every transition (the storage stays): an agent fine-tuned on other data starts
    /// from an empty buffer.
    public func removeAll() { (count, position) = (0, 0) }

    /// Stores a transition, overwriting the oldest when full. Returns its slot.
    @discardableResult
    public func add(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, done: Bool,
                    discount: Float) -> Int {
        require(observation.count == observationDimension && nextObservation.count == observationDimension
                && action.count == actionDimension,
                "ReplayBuffer.add: observation \(observation.shape), action \(action.shape) do not fit dimensions \(observationDimension), \(actionDimension)")
        let slot = position
        var o = observations[row: slot], n = nextObservations[row: slot], a = actions[row: slot]
        o.copy(from: observation.reshaped(o.shape))
        n.copy(from: nextObservation.reshaped(n.shape))
        a.copy(from: action.reshaped(a.shape))
        var r = rewards, d = dones, g = discounts
        r[flat: slot] = reward
        d[flat: slot] = done ? 1 : 0
        g[flat: slot] = discount
        position = (position + 1) % capacity
        count = min(count + 1, capacity)
        return slot
    }

    /// The stored arrays, named for a checkpoint; loading into them in place restores the contents.
    var checkpointTensors: [(name: String, tensor: Tensor)] {
        [("observations", observations), ("next_observations", nextObservations), ("actions", actions),
         ("rewards", rewards), ("dones", dones), ("discounts", discounts)]
    }

    /// The ring's fill and write position, as saved in a checkpoint.
    var ringState: (count: Int, position: Int) { (count, position) }

    /// Restores the ring's fill and write position after its arrays were loaded.
    func restoreRing(count: Int, position: Int) {
        require((0...capacity).contains(count) && (0..<capacity).contains(position)
                && (count == capacity || position == count),
                "ReplayBuffer.restoreRing: count \(count), position \(position) do not fit capacity \(capacity)")
        self.count = count
        self.position = position
    }

    /// Fills `batch` with transitions at `batch.indices` (set by a sampler).
    func gather(into batch: TransitionBatch) {
        gatherRows(observations, indices: batch.indices, into: &batch.observations)
        gatherRows(nextObservations, indices: batch.indices, into: &batch.nextObservations)
        gatherRows(actions, indices: batch.indices, into: &batch.actions)
        for (j, i) in batch.indices.enumerated() {
            let slot = Int(i)
            batch.rewards[flat: j] = rewards[flat: slot]
            batch.dones[flat: j] = dones[flat: slot]
            batch.discounts[flat: j] = discounts[flat: slot]
        }
    }

    /// Draws `batch.size` transitions uniformly (with replacement) into `batch`.
    public func sample(into batch: TransitionBatch, using rng: inout RandomGenerator) {
        require(count > 0, "ReplayBuffer.sample: the buffer is empty")
        for j in 0..<batch.size { batch.indices[j] = Int32(rng.nextIndex(below: count)) }
        gather(into: batch)
    }
}

/// A sampled batch, preallocated once and refilled by every `sample`.
public final class TransitionBatch {
    public let size: Int
    public var observations: Tensor, nextObservations: Tensor, actions: Tensor
    public var rewards: Tensor, dones: Tensor, discounts: Tensor
    /// Importance-sampling weights (all 1 for uniform sampling).
    public var weights: Tensor
    /// Buffer slots of the sampled transitions (to update priorities).
    public var indices: [Int32]

    public init(size: Int, observationDimension: Int, actionDimension: Int = 1) {
        require(size > 0, "TransitionBatch needs a positive size, got \(size)")
        self.size = size
        observations = Tensor(workspace: Shape(size, observationDimension))
        nextObservations = Tensor(workspace: Shape(size, observationDimension))
        actions = Tensor(workspace: Shape(size, actionDimension))
        rewards = Tensor(workspace: Shape(size))
        dones = Tensor(workspace: Shape(size))
        discounts = Tensor(workspace: Shape(size))
        weights = Tensor(workspace: Shape(size))
        weights.fill(with: 1)
        indices = Array(repeating: 0, count: size)
    }
}
