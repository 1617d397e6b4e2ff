import DRLData
import DRLNN
import DRLServing
import DRLTensor

/// A test-only recommender of another kind than the next-item model, to show that the service
/// serves any `ServableModel`: it ranks items by scores fixed in its checkpoint, whatever the
/// user's history and context. Its scores are its action: action noise is added to them.
struct FixedScoresModel: ServableModel {
    static let checkpointKind = "fixed-scores"

    let itemIds: [String]
    let contextColumns: [String]
    let itemCounts: [Float]
    let fixedScores: [Float]
    /// Whether the service keeps the lists it serves in the users' histories for it (as for the rankers).
    var readsImpressions = false

    /// Writes a checkpoint: the kind and the catalogue in the metadata, the scores and counts as
    /// tensors (`scores` may have another length than `items`, to make a broken model).
    static func save(items: [String], contextColumns: [String], scores: [Float], readsImpressions: Bool = false, to path: String) throws {
        let metadata = [ModelCheckpoint.modelKindKey: checkpointKind, "fixed.reads_impressions": readsImpressions ? "1" : "0",
                        "fixed.items": items.joined(separator: "\n"), "fixed.context_columns": contextColumns.joined(separator: "\n")]
        try SafeTensors.write([("scores", Tensor(shape: Shape(scores.count), scalars: scores)),
                               ("counts", Tensor(shape: Shape(items.count), scalars: items.indices.map(Float.init)))],
                              metadata: metadata, to: path)
    }

    static func load(checkpoint path: String) throws -> FixedScoresModel {
        let (tensors, metadata) = try SafeTensors.read(from: path)
        func lines(_ key: String) -> [String] { metadata[key].map { $0.isEmpty ? [] : $0.split(separator: "\n").map(String.init) } ?? [] }
        func scalars(_ name: String) -> [Float] { tensors.first { $0.name == name }?.tensor.scalars ?? [] }
        return FixedScoresModel(itemIds: lines("fixed.items"), contextColumns: lines("fixed.context_columns"),
                                itemCounts: scalars("counts"), fixedScores: scalars("scores"), readsImpressions: metadata["fixed.reads_impressions"] == "1")
    }

    func scores(history: [UserEvent], context: [Float]) -> [Float] { fixedScores }

    func scores(history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> [Float] {
        guard let actionNoise else { return fixedScores }
        var scores = Tensor(shape: Shape(fixedScores.count), scalars: fixedScores)
        actionNoise.perturb(&scores, low: -.greatestFiniteMagnitude, high: .greatestFiniteMagnitude)
        return scores.scalars
    }
}
