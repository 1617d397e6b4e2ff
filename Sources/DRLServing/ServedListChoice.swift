import DRLData
import DRLTensor

/// What a served list is made of, given a model's scores for one request: the greedy list (the k
/// best eligible items, best first; fewer when fewer are eligible) and the pool an exploring list
/// draws from (the other eligible items). An item is eligible when its score is above −∞, it is
/// among the request's candidates (when given), and it is not in `seen` (unless a candidate). The
/// service chooses every list with it, and an off-policy estimate of a model recomputes the
/// model's lists with it, so the two cannot drift apart.
public struct ServedListChoice: Sendable {
    public let greedy: [Int32]
    /// Empty unless asked for.
    public let pool: [Int32]

    /// The list a model's scores make for a user.
    /// - Parameters:
    ///   - scores: the model's score of every item.
    ///   - k: the list's length (fewer when fewer items are eligible).
    ///   - candidates: when given, one flag per item: only those items are eligible.
    ///   - seen: the user's history: its items are left out unless they are candidates.
    ///   - withPool: whether to collect the pool (only an exploring list needs it).
    public init(scores: [Float], k: Int, candidates: [Bool]?, seen: [UserEvent], withPool: Bool) {
        var masked = Tensor(shape: Shape(1, scores.count), scalars: scores)
        if let candidates { for i in scores.indices where !candidates[i] { masked[flat: i] = -.infinity } }
        for event in seen where candidates?[Int(event.item)] != true { masked[flat: Int(event.item)] = -.infinity }
        let (values, indices) = topK(masked, k: k)
        var greedy: [Int32] = []
        for j in 0..<indices.count where values[flat: j] > -.infinity { greedy.append(indices[j]) }
        self.greedy = greedy
        guard withPool else { pool = []; return }
        for item in greedy { masked[flat: Int(item)] = -.infinity }
        var pool: [Int32] = []
        pool.reserveCapacity(scores.count - greedy.count)
        masked.withUnsafeBufferPointer { masked in
            for i in masked.indices where masked[i] > -.infinity { pool.append(Int32(i)) }
        }
        self.pool = pool
    }
}
