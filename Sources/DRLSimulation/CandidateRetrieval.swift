import DRLTensor

/// The platform's candidate generator, the first stage of a two-stage recommender: the items a
/// ranker scores for one request instead of the whole catalogue. Two channels, both read without
/// a pass over the catalogue:
/// - interest: the catalogue's categories in the order of their centres' dot product with the
///   user's recent clicks (the sum of their embeddings), whole categories until at least `size`
///   items (an inverted index over the categories, whose items cluster around their centres);
/// - standing: the `standing` most popular items and, where the platform has a quality signal,
///   its `standing` best items, whatever the user clicked (what a user without clicks gets).
///
/// The candidates depend on the user's clicks alone, not on the ranker's weights: every ranker
/// of a platform (production, a candidate, a noisy action) scores the same candidates for the
/// same user, so a list one of them serves is a list another could serve.
public struct CandidateRetrieval: Sendable {
    /// Interest items at least (fewer only when the categories run out).
    public let size: Int
    /// Items of each standing channel.
    public let standing: Int
    private let centres: Tensor
    private let categoryItems: [[Int32]]
    /// The popular and best-quality items, each once, with their categories.
    private let standingItems: [(item: Int32, category: Int32)]

    public init(catalogue: Catalogue, qualitySignal: [Float]? = nil, size: Int, standing: Int = 200) {
        require(size > 0 && standing >= 0, "CandidateRetrieval: size \(size) > 0 and standing \(standing) ≥ 0")
        self.size = min(size, catalogue.count)
        self.standing = min(standing, catalogue.count)
        centres = catalogue.categoryCentres
        var lists = [[Int32]](repeating: [], count: catalogue.categoryCount)
        for (item, category) in catalogue.categories.enumerated() { lists[Int(category)].append(Int32(item)) }
        categoryItems = lists
        var items = [Int32](repeating: 0, count: catalogue.count)
        for (item, rank) in catalogue.popularityRank.enumerated() { items[Int(rank)] = Int32(item) }
        var chosen = Array(items.prefix(self.standing))
        if let quality = qualitySignal {
            // Best quality first, ties to the lower index.
            let best = (0..<catalogue.count).sorted { quality[$0] > quality[$1] || (quality[$0] == quality[$1] && $0 < $1) }
            let taken = Set(chosen)
            chosen += best.prefix(self.standing).map(Int32.init).filter { !taken.contains($0) }
        }
        standingItems = chosen.map { ($0, catalogue.categories[Int($0)]) }
    }

    /// Marks the candidates for a user whose recent clicks' embeddings sum to `clickSum` (zeros
    /// without clicks: the standing items alone) in `marks`, one bit per item of the catalogue.
    /// `categoryScores` and `takenCategories` are workspace, one entry per category.
    func mark(clickSum: UnsafeBufferPointer<Float>, marks: inout [UInt64], categoryScores: inout [Float],
              takenCategories: inout [Bool]) {
        // Through raw buffers: each write to an inout array checks its uniqueness.
        marks.withUnsafeMutableBufferPointer { marks in
            categoryScores.withUnsafeMutableBufferPointer { categoryScores in
                takenCategories.withUnsafeMutableBufferPointer { takenCategories in
                    mark(clickSum: clickSum, marks: marks, categoryScores: categoryScores, takenCategories: takenCategories)
                }
            }
        }
    }

    private func mark(clickSum: UnsafeBufferPointer<Float>, marks: UnsafeMutableBufferPointer<UInt64>,
                      categoryScores: UnsafeMutableBufferPointer<Float>, takenCategories: UnsafeMutableBufferPointer<Bool>) {
        let categories = categoryItems.count, d = clickSum.count
        for w in marks.indices { marks[w] = 0 }
        for c in 0..<categories { takenCategories[c] = false }
        var count = 0
        func set(_ item: Int32) {
            let i = Int(item)
            marks[i >> 6] |= 1 << UInt64(i & 63)
        }
        if clickSum.contains(where: { $0 != 0 }) {
            centres.withUnsafeBufferPointer { centres in
                for c in 0..<categories {
                    var dot: Float = 0
                    for k in 0..<d { dot += centres[c * d + k] * clickSum[k] }
                    categoryScores[c] = dot
                }
            }
            // Whole categories, nearest first (ties to the lower index), until `size` items.
            while count < size {
                var best = -1
                for c in 0..<categories where !takenCategories[c] && (best < 0 || categoryScores[c] > categoryScores[best]) { best = c }
                guard best >= 0 else { break }
                takenCategories[best] = true
                for item in categoryItems[best] { set(item) }
                count += categoryItems[best].count
            }
        }
        // An item of a category taken is marked already; the standing items are distinct.
        for (item, category) in standingItems where !takenCategories[Int(category)] { set(item) }
    }
}
