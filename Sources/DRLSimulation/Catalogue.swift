import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The items a platform can recommend: each item's category, a unit-length embedding in a topic
/// space (items of a category cluster around its centre), a long-tail popularity and a price.
public struct Catalogue: Sendable {
    public let categoryCount: Int
    /// Category of each item.
    public let categories: [Int32]
    /// Unit-length item embeddings [items, dimension].
    public let embeddings: Tensor
    /// Category centres [categories, dimension], unit length.
    public let categoryCentres: Tensor
    /// Popularity of each item, summing to 1: Zipf over a random order of the items, so the head
    /// is spread over categories.
    public let popularity: [Float]
    /// Each item's popularity rank (0 = most popular).
    public let popularityRank: [Int32]
    public let prices: [Float]

    public var count: Int { categories.count }
    public var dimension: Int { embeddings.shape[1] }

    /// A random catalogue: `items` items in `categories` categories with `dimension`-dimensional
    /// embeddings (category centre plus noise of scale `spread`, normalised), Zipf popularity with
    /// exponent `zipfExponent`, and log-normal prices around `medianPrice`.
    public init(items: Int, categories: Int, dimension: Int, spread: Float = 0.5, zipfExponent: Float = 1.1,
                medianPrice: Float = 30, seed: UInt64) {
        require(items >= categories && categories > 0 && dimension > 0,
                "Catalogue needs at least one item per category and a positive dimension, got \(items) items, \(categories) categories, dimension \(dimension)")
        var rng = RandomGenerator(seed: seed, stream: 0xCA7)
        categoryCount = categories
        var centres = Tensor.normal(Shape(categories, dimension), using: &rng)
        Self.normalizeRows(&centres)
        categoryCentres = centres
        var categoryOf = [Int32](repeating: 0, count: items)
        for i in 0..<items { categoryOf[i] = Int32(i < categories ? i : rng.nextIndex(below: categories)) }
        self.categories = categoryOf
        var vectors = Tensor(zeros: Shape(items, dimension))
        for i in 0..<items {
            for j in 0..<dimension { vectors[i, j] = centres[Int(categoryOf[i]), j] + spread * rng.normal() / Float(dimension).squareRoot() }
        }
        Self.normalizeRows(&vectors)
        embeddings = vectors
        let order = rng.permutation(items)
        var weights = [Float](repeating: 0, count: items), ranks = [Int32](repeating: 0, count: items)
        for (rank, item) in order.enumerated() {
            weights[item] = powf(Float(rank + 1), -zipfExponent)
            ranks[item] = Int32(rank)
        }
        let total = weights.reduce(0, +)
        popularity = weights.map { $0 / total }
        popularityRank = ranks
        prices = (0..<items).map { _ in medianPrice * expf(0.6 * rng.normal()) }
    }

    private static func normalizeRows(_ x: inout Tensor) {
        let (rows, cols) = x.shape.matrix
        x.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                var norm: Float = 0
                for j in 0..<cols { norm += p[r * cols + j] * p[r * cols + j] }
                let scale = 1 / max(norm.squareRoot(), 1e-12)
                for j in 0..<cols { p[r * cols + j] *= scale }
            }
        }
    }

    /// Cosine similarity of two items (their embeddings are unit length).
    public func similarity(_ a: Int, _ b: Int) -> Float {
        let d = dimension
        return embeddings.withUnsafeBufferPointer { e in
            var sum: Float = 0
            for j in 0..<d { sum += e[a * d + j] * e[b * d + j] }
            return sum
        }
    }

    /// Whether an item is in the long tail: outside the `headFraction` most popular items.
    public func isLongTail(_ item: Int, headFraction: Float = 0.2) -> Bool {
        Float(popularityRank[item]) >= headFraction * Float(count)
    }
}
