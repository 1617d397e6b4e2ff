import DRLData
import DRLServing
import DRLSimulation

/// Simulated users served through a recommendation endpoint (`RecommendationService` in process,
/// or `drlrec serve` over HTTP) as a platform's clients would be served: the traffic of
/// `ClosedLoop`. Each request and feedback carries the simulation's time (`TickClock`). The service sees only what a platform would send; the
/// simulator keeps the truth (the user's return and the platform's own measures).
public protocol ServedTraffic: AnyObject {
    /// Serves the user the simulator draws from `seed`, as `id`, until their episode ends,
    /// crediting each served list with the reward (by `reward`) of the feedback that names it.
    func serve(user id: String, seed: UInt64, through service: any RecommendationEndpoint, reward: RewardMapping) async throws -> ServedUserOutcome
}

/// One user's visits: the arm and versions that served them, the simulator's return, the reward
/// (by the loop's mapping) credited to each list served, and the scenario's own measures.
public struct ServedUserOutcome: Sendable {
    public var user: String
    public var arm: TrafficSplit.Arm
    /// The version that served each list ("popularity" for a fallback).
    public var versions: [String]
    /// Each list's impression id, as the service answered it.
    public var impressions: [String] = []
    /// Feedback events the service acknowledged.
    public var feedbackPosted = 0
    public var listRewards: [Double]
    public var simulatedReturn: Double
    /// E-commerce: sessions, sessions_with_purchase, purchases; video: sessions, watch_minutes,
    /// active_last_day; education: sessions, tasks, completions, mastery_gained, skills_practised,
    /// early_ends.
    public var measures: [String: Double]
}
