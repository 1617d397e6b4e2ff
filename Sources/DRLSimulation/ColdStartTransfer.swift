import DRLAgents
import DRLNN
import DRLRanking
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// User-group preference profiles learned from existing users, for new users: the existing users'
/// ALS factors are clustered by k-means; each group's profile is the `profileLength` items its
/// centroid scores highest (xᵀy). A new user's group is known only through their demographics z:
/// P(group | z) is the share of each group among existing users weighted by the kernel
/// exp(−‖z − z_u‖² / bandwidth) (for one-hot segments, essentially the users of the same segment),
/// and their initial history takes each group's best items in proportion to it.
public struct UserGroupProfiles: Sendable {
    public let groups: KMeans
    /// Each group's profile items, best first.
    public let profiles: [[Int32]]
    public let profileLength: Int
    public let bandwidth: Float
    private let demographics: Tensor

    public init(als: ImplicitALS, demographics: Tensor, groups: Int, profileLength: Int = 5, bandwidth: Float = 0.5, seed: UInt64) {
        let users = als.userFactors.shape[0], items = als.itemFactors.shape[0]
        require(demographics.rank == 2 && demographics.shape[0] == users,
                "UserGroupProfiles: demographics of shape \(demographics.shape) for \(users) users")
        require(profileLength > 0 && profileLength <= items && bandwidth > 0,
                "UserGroupProfiles: profile length \(profileLength) must be in 1...\(items) and bandwidth \(bandwidth) > 0")
        self.groups = KMeans(points: als.userFactors, clusters: groups, seed: seed)
        self.demographics = demographics
        self.profileLength = profileLength
        self.bandwidth = bandwidth
        var scores = Tensor(zeros: Shape(groups, items)), values = Tensor(zeros: Shape(groups, profileLength))
        var top = [Int32](repeating: 0, count: groups * profileLength)
        gemm(self.groups.centroids, als.itemFactors, into: &scores, transposeB: true)
        topK(scores, k: profileLength, values: &values, indices: &top)
        profiles = (0..<groups).map { Array(top[($0 * profileLength)..<(($0 + 1) * profileLength)]) }
    }

    /// P(group | demographics): each group's share among existing users, weighted by demographic similarity.
    public func groupProbabilities(for features: [Float]) -> [Float] {
        let (users, width) = demographics.shape.matrix
        require(features.count == width, "UserGroupProfiles: \(features.count) demographic features; the existing users have \(width)")
        var weights = [Float](repeating: 0, count: groups.clusterCount)
        demographics.withUnsafeBufferPointer { z in
            for u in 0..<users {
                var distance: Float = 0
                for j in 0..<width { let delta = features[j] - z[u * width + j]; distance += delta * delta }
                weights[groups.assignments[u]] += expf(-distance / bandwidth)
            }
        }
        let total = weights.reduce(0, +)
        return weights.map { $0 / max(total, .leastNormalMagnitude) }
    }

    /// The history a new user with these demographics starts from: `profileLength` items, each
    /// group contributing its best items in proportion to P(group | demographics) (largest
    /// remainders round the shares), the most likely group's first.
    public func initialHistory(for features: [Float]) -> [Int32] {
        let probabilities = groupProbabilities(for: features)
        let slots = Self.slots(probabilities, total: profileLength)
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        return order.flatMap { profiles[$0].prefix(slots[$0]) }
    }

    /// `total` slots shared in proportion to `probabilities` (summing to 1) by largest remainders:
    /// each share's whole part first, then one more slot each to the largest fractional parts,
    /// ties to the lower index.
    public static func slots(_ probabilities: [Float], total: Int) -> [Int] {
        let quotas = probabilities.map { $0 * Float(total) }
        var slots = quotas.map { Int($0) }
        let remainders = quotas.indices.map { quotas[$0] - Float(slots[$0]) }
        let byRemainder = remainders.indices.sorted { (remainders[$0], $1) > (remainders[$1], $0) }
        for group in byRemainder.prefix(max(total - slots.reduce(0, +), 0)) { slots[group] += 1 }
        return slots
    }
}

/// A recommender with cold-start transfer: for a user who arrives with no history, the state
/// starts from their likely groups' profiles instead of nothing. The profile items stand in for the
/// missing recent clicks, in what the wrapped policy sees of the platform and in the
/// observation's click-history part, and real clicks push them out as they come. Users who arrive
/// with a history are served by the wrapped policy unchanged.
public final class ColdStartTransferPolicy: SlatePolicy {
    public let base: SlatePolicy
    public let profiles: UserGroupProfiles
    public var name: String { "\(base.name) + cold-start transfer" }
    private var seededHistory: [Int32] = []
    private let view = HistorySeededEnvironment()
    private var seededObservation = Tensor(zeros: Shape(0))

    public init(base: SlatePolicy, profiles: UserGroupProfiles) {
        self.base = base
        self.profiles = profiles
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        if environment.shownItems.isEmpty {
            seededHistory = environment.recentClickedItems.isEmpty ? profiles.initialHistory(for: environment.demographics) : []
        }
        guard let history = Self.transferredClicks(seed: seededHistory, real: environment.recentClickedItems) else {
            base.recommend(environment, observation: observation, into: &slate)
            return
        }
        view.show(environment, history: history)
        if seededObservation.count != observation.count { seededObservation = Tensor(zeros: observation.shape) }
        seededObservation.copy(from: observation)
        if let range = environment.clickHistoryObservationRange {
            Self.writeClickHistory(history, catalogue: environment.catalogue, at: range, into: &seededObservation)
        }
        base.recommend(view, observation: seededObservation, into: &slate)
    }

    /// The recent clicks a new user is seen with: while they have fewer real clicks than their
    /// seed (`UserGroupProfiles.initialHistory`), the seed's first items fill the window the
    /// platform keeps and the real clicks are the newest; nil once the real clicks fill it.
    public static func transferredClicks(seed: [Int32], real: [Int32]) -> [Int32]? {
        seed.count > real.count ? Array(seed.prefix(seed.count - real.count)) + real : nil
    }

    /// Writes the mean embedding of `clicks` over an observation's click-history part `range`.
    public static func writeClickHistory(_ clicks: [Int32], catalogue: Catalogue, at range: Range<Int>, into observation: inout Tensor) {
        require(range.count == catalogue.dimension, "ColdStartTransferPolicy: the click-history part \(range) is not one embedding of \(catalogue.dimension)")
        for j in 0..<catalogue.dimension {
            var mean: Float = 0
            for item in clicks { mean += catalogue.embeddings[Int(item), j] }
            observation[flat: range.lowerBound + j] = mean / Float(clicks.count)
        }
    }
}

/// A platform as the wrapped policy of `ColdStartTransferPolicy` sees it: everything from the
/// real environment except the recent clicks, which include the seeded profile. (Its sequence
/// observations are the platform's, without the seed.)
final class HistorySeededEnvironment: RecommendationEnvironment, SequenceObservable {
    private var environment: RecommendationEnvironment?
    private var history: [Int32] = []

    func show(_ environment: RecommendationEnvironment, history: [Int32]) {
        self.environment = environment
        self.history = history
    }

    private var wrapped: RecommendationEnvironment {
        guard let environment else { requirementFailure("HistorySeededEnvironment used before show(_:history:)") }
        return environment
    }

    var observationSpace: Space { wrapped.observationSpace }
    var actionSpace: Space { wrapped.actionSpace }
    var catalogue: Catalogue { wrapped.catalogue }
    var constraints: PlatformConstraints { wrapped.constraints }
    var shownItems: Set<Int32> { wrapped.shownItems }
    var recentClickedItems: [Int32] { history }
    var lastClickedItem: Int32? { wrapped.lastClickedItem }
    var slateSize: Int { wrapped.slateSize }
    var itemQualitySignal: [Float]? { wrapped.itemQualitySignal }
    var demographics: [Float] { wrapped.demographics }
    var clickHistoryObservationRange: Range<Int>? { wrapped.clickHistoryObservationRange }
    var retrievalSize: Int { wrapped.retrievalSize }
    var retrievalStanding: Int { wrapped.retrievalStanding }

    private var sequenceSource: SequenceObservable {
        guard let source = wrapped as? SequenceObservable else { requirementFailure("HistorySeededEnvironment: the platform gives no sequence observations") }
        return source
    }
    var interactionMemory: Int { sequenceSource.interactionMemory }
    func stateEncoderLayout(historyTokens: Int) -> SequenceStateEncoder.Configuration { sequenceSource.stateEncoderLayout(historyTokens: historyTokens) }
    func writeSequenceObservation(historyTokens: Int, into observation: inout Tensor) {
        sequenceSource.writeSequenceObservation(historyTokens: historyTokens, into: &observation)
    }

    func reset(seed: UInt64?, observation: inout Tensor) {
        requirementFailure("HistorySeededEnvironment is a view for recommending; reset the platform itself")
    }

    func step(_ action: Action, observation: inout Tensor) -> StepResult {
        requirementFailure("HistorySeededEnvironment is a view for recommending; step the platform itself")
    }
}
