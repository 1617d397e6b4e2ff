import DRLTensor

/// Pieces of the simulated users that the slate platforms (e-commerce, video) share.
enum SimulatedUser {
    /// A random interest: a mix of one to three category centres with random weights, plus
    /// noise of scale `noise`, normalised. With `preferred` categories (those of the user's
    /// demographic segment), each centre is drawn from them with probability `affinity`, and
    /// from all categories otherwise.
    static func randomInterest(_ interest: inout [Float], catalogue: Catalogue, noise: Float = 0.3,
                               preferred: [Int] = [], affinity: Float = 0, using rng: inout RandomGenerator) {
        let d = catalogue.dimension
        for j in 0..<d { interest[j] = 0 }
        for _ in 0..<(1 + rng.nextIndex(below: 3)) {
            let category = !preferred.isEmpty && rng.uniform() < affinity
                ? preferred[rng.nextIndex(below: preferred.count)] : rng.nextIndex(below: catalogue.categoryCount)
            let weight = 0.5 + rng.uniform()
            for j in 0..<d { interest[j] += weight * catalogue.categoryCentres[category, j] }
        }
        for j in 0..<d { interest[j] += noise * rng.normal() / Float(d).squareRoot() }
        normalize(&interest)
    }

    /// Scales `v` to unit length.
    static func normalize(_ v: inout [Float]) {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for j in v.indices { v[j] /= max(norm, 1e-12) }
    }

    /// Adds the mean embedding of `items` into o[offset ..< offset + dimension] (nothing when empty).
    static func addMeanEmbedding(of items: [Int32], catalogue: Catalogue, into o: UnsafeMutableBufferPointer<Float>, at offset: Int) {
        let d = catalogue.dimension
        for item in items { for j in 0..<d { o[offset + j] += catalogue.embeddings[Int(item), j] / Float(items.count) } }
    }
}
