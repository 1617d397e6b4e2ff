import DRLNN
import DRLTensor

/// Turns a continuous action into a ranked list over candidate items: the action is a weight
/// vector w in the item-embedding space and each candidate's score is w · e_item (how a TD3 or
/// DDPG actor recommends from a catalogue too large for one output per item). Scoring is one GEMV
/// over the candidate table; ranking is a bounded top-K. Neither allocates.
public final class EmbeddingRanker {
    /// Candidate item embeddings [items, dimension].
    public let embeddings: Tensor
    /// Scores of the last `rank` call [items].
    public private(set) var scores: Tensor
    private var topValues = Buffer()

    public init(embeddings: Tensor) {
        require(embeddings.rank == 2 && embeddings.shape[0] > 0 && embeddings.shape[1] > 0,
                "EmbeddingRanker needs embeddings [items, dimension], got \(embeddings.shape)")
        self.embeddings = embeddings
        scores = Tensor(workspace: Shape(embeddings.shape[0]))
    }

    public var items: Int { embeddings.shape[0] }
    public var dimension: Int { embeddings.shape[1] }

    /// Scores every candidate with `weights` [dimension] and writes the `slate.count` best items,
    /// best first, into `slate`.
    public func rank(_ weights: Tensor, into slate: inout [Int32]) {
        require(weights.count == dimension, "EmbeddingRanker.rank: weights \(weights.shape) need \(dimension) elements")
        require(slate.count >= 1 && slate.count <= items, "EmbeddingRanker.rank: a slate of \(slate.count) from \(items) items")
        gemv(embeddings, weights.reshaped(Shape(dimension)), into: &scores)
        var values = topValues.view(Shape(1, slate.count))
        topK(scores.reshaped(Shape(1, items)), k: slate.count, values: &values, indices: &slate)
    }
}
