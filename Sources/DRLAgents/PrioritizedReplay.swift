import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sum tree over `capacity` non-negative priorities: O(log n) updates and prefix-sum search.
/// Sums are kept in Double so that many small updates do not drift.
public struct SumTree {
    public let capacity: Int
    private let leaves: Int
    private var nodes: [Double]

    public init(capacity: Int) {
        require(capacity > 0, "SumTree needs a positive capacity, got \(capacity)")
        self.capacity = capacity
        var size = 1
        while size < capacity { size *= 2 }
        leaves = size
        nodes = Array(repeating: 0, count: 2 * size)
    }

    public var total: Double { nodes[1] }

    public subscript(index: Int) -> Double { nodes[leaves + index] }

    public mutating func update(_ index: Int, priority: Double) {
        require(index >= 0 && index < capacity && priority >= 0 && priority.isFinite,
                "SumTree.update: index \(index) of \(capacity) with priority \(priority)")
        var node = leaves + index
        nodes[node] = priority
        while node > 1 {
            node /= 2
            nodes[node] = nodes[2 * node] + nodes[2 * node + 1]
        }
    }

    /// The index i with cumulative priority before it ≤ `prefix` < cumulative through it.
    public func find(prefix: Double) -> Int {
        var value = min(max(prefix, 0), total)
        var node = 1
        while node < leaves {
            let left = 2 * node
            if value < nodes[left] || nodes[left + 1] == 0 {
                node = left
            } else {
                value -= nodes[left]
                node = left + 1
            }
        }
        return min(node - leaves, capacity - 1)
    }
}

/// Prioritised experience replay (Schaul et al.): transition i is drawn with probability
/// pᵢ^α / Σ p^α, and weighted by wᵢ = (N·P(i))^−β / maxⱼ wⱼ over the batch to correct the bias.
/// New transitions get the largest priority seen so far; `updatePriorities` sets |δ| + ε after a
/// learning step. Sampling is stratified (one draw per equal slice of the total).
public final class PrioritizedReplayBuffer {
    public let buffer: ReplayBuffer
    public let alpha: Float, epsilon: Float
    private var tree: SumTree
    private var maxPriority: Double = 1
    /// Each slot's priority is (|δ| + ε)^α computed from the Float |δ| + ε kept here (1 for the
    /// initial maximum), so a checkpoint that saves these bases rebuilds the tree exactly.
    private var bases: Tensor
    private var maxBase: Float = 1

    public init(capacity: Int, observationDimension: Int, actionDimension: Int = 1, alpha: Float = 0.6, epsilon: Float = 1e-6) {
        require(alpha >= 0 && epsilon > 0, "PrioritizedReplayBuffer: alpha \(alpha) must be ≥ 0 and epsilon \(epsilon) > 0")
        buffer = ReplayBuffer(capacity: capacity, observationDimension: observationDimension, actionDimension: actionDimension)
        tree = SumTree(capacity: capacity)
        bases = Tensor(workspace: Shape(capacity))
        self.alpha = alpha
        self.epsilon = epsilon
    }

    public var count: Int { buffer.count }

    public func add(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, done: Bool, discount: Float) {
        let slot = buffer.add(observation: observation, action: action, reward: reward, nextObservation: nextObservation,
                              done: done, discount: discount)
        tree.update(slot, priority: maxPriority)
        bases[flat: slot] = maxBase
    }

    /// Draws `batch.size` transitions in proportion to priority, with importance weights for `beta`.
    public func sample(into batch: TransitionBatch, beta: Float, using rng: inout RandomGenerator) {
        require(count > 0, "PrioritizedReplayBuffer.sample: the buffer is empty")
        require(beta >= 0 && beta <= 1, "PrioritizedReplayBuffer.sample: beta must be in [0, 1], got \(beta)")
        let total = tree.total, segment = total / Double(batch.size)
        var maxWeight: Float = 0
        for j in 0..<batch.size {
            let index = tree.find(prefix: (Double(j) + Double(rng.uniform())) * segment)
            batch.indices[j] = Int32(index)
            let probability = tree[index] / total
            let weight = Float(pow(Double(count) * probability, -Double(beta)))
            batch.weights[flat: j] = weight
            maxWeight = max(maxWeight, weight)
        }
        for j in 0..<batch.size { batch.weights[flat: j] /= maxWeight }
        buffer.gather(into: batch)
    }

    /// Sets the priorities of the sampled slots to (|tdError| + ε)^α.
    public func updatePriorities(indices: [Int32], tdErrors: Tensor) {
        require(indices.count == tdErrors.count, "updatePriorities: \(indices.count) indices for \(tdErrors.count) errors")
        for (j, i) in indices.enumerated() {
            let error = tdErrors[flat: j]
            require(error.isFinite, "updatePriorities: TD error \(error) for slot \(i) is not finite")
            let base = abs(error) + epsilon
            let priority = pow(Double(base), Double(alpha))
            tree.update(Int(i), priority: priority)
            bases[flat: Int(i)] = base
            if priority > maxPriority { (maxPriority, maxBase) = (priority, base) }
        }
    }

    /// The priority bases, for a checkpoint (the transitions are `buffer`'s).
    var checkpointTensors: [(name: String, tensor: Tensor)] { [("priority_bases", bases)] }

    /// The base of the largest priority so far, for a checkpoint.
    var checkpointMaxBase: Float { maxBase }

    /// Rebuilds the sum tree from the loaded bases of the stored slots, after `buffer` was restored.
    func restorePriorities(maxBase: Float) {
        tree = SumTree(capacity: buffer.capacity)
        for slot in 0..<buffer.count { tree.update(slot, priority: pow(Double(bases[flat: slot]), Double(alpha))) }
        self.maxBase = maxBase
        maxPriority = pow(Double(maxBase), Double(alpha))
    }
}
