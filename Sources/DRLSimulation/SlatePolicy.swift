import DRLAgents
import DRLNN
import DRLTensor

/// A recommender that fills a slate for an environment's current user.
public protocol SlatePolicy: AnyObject {
    var name: String { get }
    /// Writes `slate.count` distinct allowed items, best first.
    func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32])
}
