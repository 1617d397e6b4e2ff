import DRLData
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation

/// Simulated users of a slate platform (e-commerce, video feed) served through a recommendation
/// endpoint (the service in process, or a server over HTTP), as the platform's clients would be: at each visit the client asks for
/// a list with the user's context, the user responds to the list served, and every response is
/// posted as feedback naming the list and position that showed the item (a purchase that arrives
/// steps later names the list that showed what it buys). The service sees only what a platform
/// would send; the simulator keeps the truth (the user's return and the platform's statistics).
public final class ServedSlateTraffic: ServedTraffic {
    public let simulator: any ObservableSlatePlatform
    public let clock: TickClock
    private var observation: Tensor

    public init(simulator: any ObservableSlatePlatform, clock: TickClock) {
        self.simulator = simulator
        self.clock = clock
        observation = Tensor(zeros: Shape(simulator.observationSpace.dimension))
    }

    /// Serves the user the simulator draws from `seed`, as `id`, until their episode ends.
    public func serve(user id: String, seed: UInt64, through service: any RecommendationEndpoint, reward: RewardMapping) async throws -> ServedUserOutcome {
        simulator.reset(seed: seed, observation: &observation)
        let k = simulator.slateSize
        var outcome = ServedUserOutcome(user: id, arm: .control, versions: [], listRewards: [], simulatedReturn: 0, measures: [:])
        // Where each item was last shown: the list and position its feedback names.
        var shownAt: [Int32: (impression: String, position: Int, list: Int)] = [:]
        try await post(simulator.lastEvents, user: id, to: service, shownAt: shownAt, reward: reward, outcome: &outcome)
        while true {
            var request = RecommendRequest(user: id, k: k)
            request.context = Dictionary(uniqueKeysWithValues: zip(simulator.contextColumns, simulator.visitContext.map(Double.init)))
            request.timestamp = clock.tick()
            let answer = try await service.recommend(request)
            guard answer.items.count == k, let impression = answer.impression else {
                throw ClosedLoopError("the service answered \(answer.items.count) items\(answer.impression == nil ? " without an impression log" : ""); the platform shows \(k)")
            }
            var slate: [Int32] = []
            for item in answer.items {
                guard let index = Int32(item.id), index >= 0, Int(index) < simulator.catalogue.count,
                      simulator.constraints.allows(Int(index), in: simulator.catalogue), !slate.contains(index) else {
                    throw ClosedLoopError("the service served '\(item.id)' (by \(answer.version ?? "popularity")), which the platform cannot show")
                }
                slate.append(index)
            }
            outcome.arm = answer.arm
            outcome.versions.append(answer.version ?? "popularity")
            outcome.impressions.append(impression)
            outcome.listRewards.append(0)
            for (j, item) in slate.enumerated() { shownAt[item] = (impression, j + 1, outcome.listRewards.count - 1) }
            let result = simulator.step(.slate(slate), observation: &observation)
            outcome.simulatedReturn += Double(result.reward)
            try await post(simulator.lastEvents, user: id, to: service, shownAt: shownAt, reward: reward, outcome: &outcome)
            if result.terminated || result.truncated { break }
        }
        outcome.measures = measures()
        return outcome
    }

    /// Posts the user's responses (not the impressions, which the service logged itself).
    private func post(_ events: [UserEvent], user: String, to service: any RecommendationEndpoint,
                      shownAt: [Int32: (impression: String, position: Int, list: Int)], reward: RewardMapping,
                      outcome: inout ServedUserOutcome) async throws {
        let context = Dictionary(uniqueKeysWithValues: zip(simulator.contextColumns, simulator.visitContext.map(Double.init)))
        for event in events where event.event != .impression {
            let shown = shownAt[event.item]
            if let shown { outcome.listRewards[shown.list] += Double(reward.reward(for: Feedback(event.event, value: event.value))) }
            try await service.feedback(FeedbackRequest(user: user, item: String(event.item), event: event.event, value: event.value,
                                                       timestamp: clock.tick(), context: context, impression: shown.map { ($0.impression, $0.position) }))
            outcome.feedbackPosted += 1
        }
    }

    private func measures() -> [String: Double] {
        if let ecommerce = simulator as? EcommerceSimulator {
            let s = ecommerce.statistics
            return ["sessions": Double(s.sessions), "sessions_with_purchase": Double(s.sessionsWithPurchase), "purchases": Double(s.purchases)]
        }
        if let video = simulator as? VideoFeedSimulator {
            let s = video.statistics
            return ["sessions": Double(s.sessions), "watch_minutes": Double(s.watchMinutes), "active_last_day": s.activeOnLastDay ? 1 : 0]
        }
        return [:]
    }
}
