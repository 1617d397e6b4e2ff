import DRLTensor

/// LinUCB (Li et al., WWW 2010) with one linear model shared by all items: each item's features
/// are its relevance to the user's recent clicks, its popularity (headness) and its embedding; the
/// score is θᵀφ + α·√(φᵀA⁻¹φ) with A = λI + Σ φφᵀ and θ = A⁻¹b, b = Σ r·φ over every item shown,
/// r = 1 for the clicked one. It learns online while it serves, across users, from the clicks it
/// observes: the contextual bandit a platform runs, optimising the next click only.
public final class LinUCBPolicy: SlatePolicy {
    public let name = "linucb"
    public let exploration: Float
    private let relevance: MyopicGreedyPolicy
    private let featureCount: Int
    /// Features of every item [items, p]; column 0 (relevance) is refreshed at each call.
    private var features: Tensor
    private var inverse: Tensor, rewardSum: Tensor, theta: Tensor
    private var means: Tensor, projected: Tensor, scores: Tensor, values: Tensor
    /// Features of the items of the last slate, and those items.
    private var shownFeatures: Tensor
    private var lastSlate: [Int32] = []
    private var x: Tensor, inverseX: Tensor

    public init(catalogue: Catalogue, exploration: Float = 0.3, ridge: Float = 1) {
        require(exploration >= 0 && ridge > 0, "LinUCBPolicy: exploration \(exploration) must be ≥ 0 and ridge \(ridge) > 0")
        self.exploration = exploration
        relevance = MyopicGreedyPolicy(catalogue: catalogue, popularityWeight: 0)
        let n = catalogue.count, d = catalogue.dimension, p = d + 2
        featureCount = p
        features = Tensor(zeros: Shape(n, p))
        for item in 0..<n {
            features[item, 1] = 1 - Float(catalogue.popularityRank[item]) / Float(max(n - 1, 1))
            for j in 0..<d { features[item, 2 + j] = catalogue.embeddings[item, j] }
        }
        inverse = Tensor(zeros: Shape(p, p))
        for k in 0..<p { inverse[k, k] = 1 / ridge }
        rewardSum = Tensor(zeros: Shape(p))
        theta = Tensor(zeros: Shape(p))
        means = Tensor(zeros: Shape(n))
        projected = Tensor(zeros: Shape(n, p))
        scores = Tensor(zeros: Shape(n))
        values = Tensor(zeros: Shape(1, 1))
        shownFeatures = Tensor(zeros: Shape(0, p))
        x = Tensor(zeros: Shape(p))
        inverseX = Tensor(zeros: Shape(p))
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        let n = environment.catalogue.count, p = featureCount
        // Learn from the outcome of the last slate, unless a new episode began since.
        if !lastSlate.isEmpty && !environment.shownItems.isEmpty {
            let clicked = environment.lastClickedItem
            for (row, item) in lastSlate.enumerated() {
                for k in 0..<p { x[flat: k] = shownFeatures[row, k] }
                update(with: x, reward: item == clicked ? 1 : 0)
            }
        }
        relevance.score(environment)
        let fit = relevance.lastScores
        for item in 0..<n { features[item, 0] = fit[flat: item] == -.infinity ? 0 : fit[flat: item] }
        gemv(inverse, rewardSum, into: &theta)
        gemv(features, theta, into: &means)
        gemm(features, inverse, into: &projected)
        features.withUnsafeBufferPointer { f in
            projected.withUnsafeBufferPointer { m in
                for item in 0..<n {
                    guard fit[flat: item] > -.infinity else { scores[flat: item] = -.infinity; continue }
                    var variance: Float = 0
                    for k in 0..<p { variance += f[item * p + k] * m[item * p + k] }
                    scores[flat: item] = means[flat: item] + exploration * max(variance, 0).squareRoot()
                }
            }
        }
        if values.count != slate.count { values = Tensor(zeros: Shape(1, slate.count)) }
        topK(scores.reshaped(Shape(1, n)), k: slate.count, values: &values, indices: &slate)
        if shownFeatures.shape[0] != slate.count { shownFeatures = Tensor(zeros: Shape(slate.count, p)) }
        for (row, item) in slate.enumerated() { for k in 0..<p { shownFeatures[row, k] = features[Int(item), k] } }
        lastSlate = slate
    }

    /// A ← A + xxᵀ through Sherman–Morrison on A⁻¹, and b ← b + r·x.
    private func update(with x: Tensor, reward: Float) {
        let p = featureCount
        gemv(inverse, x, into: &inverseX)
        let denominator = 1 + dot(x, inverseX)
        for r in 0..<p { for c in 0..<p { inverse[r, c] -= inverseX[flat: r] * inverseX[flat: c] / denominator } }
        if reward != 0 { axpy(reward, x, &rewardSum) }
    }
}
