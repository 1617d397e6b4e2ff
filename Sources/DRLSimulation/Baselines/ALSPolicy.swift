import DRLData
import DRLRanking
import DRLTensor

/// Collaborative filtering as a platform runs it: implicit ALS fitted on the clicks its existing
/// users logged, and for the current user the factors folded in from their recent clicks; the
/// slate is the best unseen allowed items by xᵀy. A user with no clicks yet gets the items the
/// logs clicked most (ALS has nothing to say about them).
public final class ALSPolicy: SlatePolicy {
    public let name = "als"
    public let model: ImplicitALS
    private let loggedPopularity: Tensor
    private var scores: Tensor, values: Tensor

    public init(model: ImplicitALS, loggedCounts: [Float]) {
        require(loggedCounts.count == model.itemFactors.shape[0],
                "ALSPolicy: \(loggedCounts.count) item counts for a model of \(model.itemFactors.shape[0]) items")
        self.model = model
        loggedPopularity = Tensor(shape: Shape(loggedCounts.count), scalars: loggedCounts)
        scores = Tensor(zeros: Shape(loggedCounts.count))
        values = Tensor(zeros: Shape(1, 1))
    }

    /// Logs `users` existing users served by `logging` (seeds `seed`, `seed + 1`, …), fits ALS on
    /// their clicks and returns the policy, the model and the log.
    public static func trained(on environment: RecommendationEnvironment, logging: SlatePolicy, users: Int, seed: UInt64,
                               configuration: ImplicitALS.Configuration = ImplicitALS.Configuration()) throws -> (policy: ALSPolicy, log: InteractionLog) {
        let log = logInteractions(logging, on: environment, users: users, seed: seed)
        let matrix = log.matrix(items: environment.catalogue.count)
        let model = ImplicitALS(users: matrix.users, items: matrix.items, configuration: configuration, seed: seed)
        try model.fit(matrix)
        return (ALSPolicy(model: model, loggedCounts: matrix.itemCounts()), log)
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        let n = environment.catalogue.count
        require(n == scores.count, "ALSPolicy: the model knows \(scores.count) items; the platform has \(n)")
        let clicks = environment.recentClickedItems
        if clicks.isEmpty {
            scores.copy(from: loggedPopularity)
        } else {
            do {
                let factors = try model.foldIn(items: clicks)
                gemv(model.itemFactors, factors, into: &scores)
            } catch {
                // The fold-in system is λI plus a Gram matrix, positive definite for finite factors.
                requirementFailure("ALSPolicy: folding in \(clicks.count) clicks failed: \(error)")
            }
        }
        environment.constraints.mask(&scores)
        for item in environment.shownItems { scores[flat: Int(item)] = -.infinity }
        if values.count != slate.count { values = Tensor(zeros: Shape(1, slate.count)) }
        topK(scores.reshaped(Shape(1, n)), k: slate.count, values: &values, indices: &slate)
    }
}
