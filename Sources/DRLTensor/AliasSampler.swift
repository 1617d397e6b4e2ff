/// Draws indices from a fixed discrete distribution in constant time per draw (Walker's alias
/// method, in Vose's stable construction): each of the n columns holds its own index with
/// probability `threshold` and its alias otherwise, so a draw is one uniform column and one
/// uniform coin. Building it takes O(n).
public struct AliasSampler: Sendable {
    /// Each index's probability (the weights normalised).
    public let probabilities: [Float]
    private var threshold: [Float] = [], alias: [Int32] = []

    /// A sampler of index i with probability weights[i] / Σ weights; the weights must be
    /// non-negative and finite, and not all 0.
    public init(weights: [Float]) {
        let total = weights.reduce(0.0) { $0 + Double($1) }
        require(!weights.isEmpty && weights.count <= Int(Int32.max) && weights.allSatisfy { $0 >= 0 && $0.isFinite } && total > 0,
                "AliasSampler: weights must be non-negative, finite and not all zero")
        let n = weights.count
        probabilities = weights.map { Float(Double($0) / total) }
        threshold = [Float](repeating: 1, count: n)
        alias = (0..<n).map(Int32.init)
        // Scaled to mean 1: columns below 1 borrow the rest of their height from one above.
        var scaled = weights.map { Double($0) / total * Double(n) }
        var small = (0..<n).filter { scaled[$0] < 1 }, large = (0..<n).filter { scaled[$0] >= 1 }
        while let s = small.popLast(), let l = large.last {
            threshold[s] = Float(scaled[s])
            alias[s] = Int32(l)
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 {
                large.removeLast()
                small.append(l)
            }
        }
        // What is left is 1 up to rounding: those columns keep their own index.
    }

    public var count: Int { threshold.count }

    /// One index.
    public func draw(using rng: inout RandomGenerator) -> Int32 {
        let column = rng.nextIndex(below: threshold.count)
        return rng.uniform() < threshold[column] ? Int32(column) : alias[column]
    }
}
