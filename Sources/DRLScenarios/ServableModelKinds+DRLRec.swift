import DRLRanking
import DRLServing

extension ServableModelKinds {
    /// Every kind DRLRec serves: next-item models, the slate rankers (e-commerce, video) and the
    /// education tutor.
    public static let drlrec = ServableModelKinds([NextItemModel.self, ServableSlateRanker.self, ServableTutor.self])
}
