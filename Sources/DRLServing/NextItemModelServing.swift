import DRLRecommend

/// A next-item model serves as it is: its catalogue, context columns and training counts are the
/// ones its checkpoint records, and its scores are its next-item logits.
extension NextItemModel: ServableModel {
    /// The kind `NextItemModel.save(to:)` writes in the metadata entry `drlrec.model`.
    public static var checkpointKind: String { "next-item" }

    public static func load(checkpoint path: String) throws -> NextItemModel {
        try load(from: path)
    }

    public func scores(history: [UserEvent], context: [Float]) -> [Float] {
        // Only the last `historyLength` events are read, so only those are converted.
        let events = history.suffix(configuration.historyLength).map {
            HistoryEvent(item: $0.item, event: $0.event, value: $0.value, timestamp: $0.timestamp)
        }
        return score(history: events[...], context: context).scalars
    }
}
