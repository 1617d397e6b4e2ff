import DRLTensor

/// k-means clustering (Lloyd's iterations from k-means++ seeding, Arthur and Vassilvitskii 2007).
/// Squared distances to all centroids come from one GEMM per iteration: ‖x‖² − 2·x·c + ‖c‖².
public struct KMeans: Sendable {
    /// [clusters, features].
    public private(set) var centroids: Tensor
    /// The cluster of each point the model was fitted on.
    public private(set) var assignments: [Int]

    public var clusterCount: Int { centroids.shape[0] }

    /// Clusters the rows of `points` [n, features] into `clusters` groups, iterating until no
    /// point changes cluster or `iterations` have run. An emptied cluster is re-seeded with the
    /// point farthest from its centroid.
    public init(points: Tensor, clusters: Int, iterations: Int = 100, seed: UInt64) {
        require(points.rank == 2, "KMeans: points must be a matrix [n, features], got shape \(points.shape)")
        let (n, d) = points.shape.matrix
        require((1...max(n, 1)).contains(clusters) && n > 0, "KMeans: \(clusters) clusters for \(n) points; need 1...n")
        require(points.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) }, "KMeans: the points contain NaN or infinity")
        var rng = RandomGenerator(seed: seed, stream: 0x3EA)
        let pointNorms = (0..<n).map { i in (0..<d).reduce(Float(0)) { $0 + points[i, $1] * points[i, $1] } }
        // k-means++: each next centre is a point drawn with probability ∝ its squared distance to the nearest centre.
        var centres = Tensor(zeros: Shape(clusters, d))
        var nearest = [Float](repeating: .infinity, count: n)
        var chosen = rng.nextIndex(below: n)
        for c in 0..<clusters {
            for j in 0..<d { centres[c, j] = points[chosen, j] }
            for i in 0..<n {
                var distance: Float = 0
                for j in 0..<d { let delta = points[i, j] - points[chosen, j]; distance += delta * delta }
                nearest[i] = min(nearest[i], distance)
            }
            if c + 1 < clusters {
                chosen = nearest.reduce(0, +) > 0 ? rng.categorical(nearest) : rng.nextIndex(below: n)
            }
        }
        centroids = centres
        assignments = [Int](repeating: -1, count: n)
        var products = Tensor(zeros: Shape(n, clusters))
        var distances = [Float](repeating: 0, count: n)
        for _ in 0..<max(iterations, 1) {
            gemm(points, centroids, into: &products, transposeB: true)
            let centreNorms = (0..<clusters).map { c in (0..<d).reduce(Float(0)) { $0 + centroids[c, $1] * centroids[c, $1] } }
            var changed = false
            for i in 0..<n {
                var best = 0, bestDistance = Float.infinity
                for c in 0..<clusters {
                    let distance = pointNorms[i] - 2 * products[i, c] + centreNorms[c]
                    if distance < bestDistance { (best, bestDistance) = (c, distance) }
                }
                if assignments[i] != best { changed = true; assignments[i] = best }
                distances[i] = max(bestDistance, 0)
            }
            if !changed { break }
            var sums = Tensor(zeros: Shape(clusters, d))
            var sizes = [Int](repeating: 0, count: clusters)
            for i in 0..<n {
                sizes[assignments[i]] += 1
                for j in 0..<d { sums[assignments[i], j] += points[i, j] }
            }
            for c in 0..<clusters {
                if sizes[c] == 0 {
                    let farthest = distances.indices.max { distances[$0] < distances[$1] }!
                    for j in 0..<d { centroids[c, j] = points[farthest, j] }
                    distances[farthest] = 0
                } else {
                    for j in 0..<d { centroids[c, j] = sums[c, j] / Float(sizes[c]) }
                }
            }
        }
    }

    /// The cluster whose centroid is nearest to `point`.
    public func nearest(_ point: [Float]) -> Int {
        let d = centroids.shape[1]
        require(point.count == d, "KMeans.nearest: a point of \(point.count) features for centroids of \(d)")
        var best = 0, bestDistance = Float.infinity
        for c in 0..<clusterCount {
            var distance: Float = 0
            for j in 0..<d { let delta = point[j] - centroids[c, j]; distance += delta * delta }
            if distance < bestDistance { (best, bestDistance) = (c, distance) }
        }
        return best
    }

    /// Σ of each point's squared distance to its centroid (the k-means objective).
    public func inertia(_ points: Tensor) -> Float {
        let d = centroids.shape[1]
        var total: Float = 0
        for (i, c) in assignments.enumerated() { for j in 0..<d { let delta = points[i, j] - centroids[c, j]; total += delta * delta } }
        return total
    }
}
