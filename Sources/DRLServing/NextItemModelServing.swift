import DRLData
import DRLRanking

/// A next-item model serves as it is: its catalogue, context columns and training counts are the
/// ones its checkpoint records, and its scores are its next-item logits.
extension NextItemModel: ServableModel {
    public static func load(checkpoint path: String) throws -> NextItemModel {
        try load(from: path)
    }

    public func scores(history: [UserEvent], context: [Float]) -> [Float] {
        score(history: history[...], context: context).scalars
    }
}
