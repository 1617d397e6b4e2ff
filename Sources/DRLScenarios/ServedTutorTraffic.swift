import DRLData
import DRLServing
import DRLSimulation
import DRLTensor

/// Simulated learners of the education platform served through a recommendation endpoint whose
/// production version is a tutor (`ServableTutor`): before each task the client asks for one
/// task with the learner's course context, the learner attempts the task served, and a
/// completion is posted as feedback naming the list that gave the task. The service keeps the
/// tasks it gave in the learner's history itself (a tutor reads its impressions), so it sees
/// what the platform sees; the simulator keeps the truth (mastery, fatigue, the return).
public final class ServedTutorTraffic: ServedTraffic {
    public let simulator: EducationSimulator
    public let clock: TickClock
    private var observation: Tensor
    private let tasks: [String: Int32]

    public init(simulator: EducationSimulator, clock: TickClock) {
        self.simulator = simulator
        self.clock = clock
        observation = Tensor(zeros: Shape(simulator.observationDimension))
        tasks = Dictionary(uniqueKeysWithValues: (0..<Int32(EducationObservedLearner.tasks(configuration: simulator.configuration))).map {
            (ServableTutor.itemId(task: $0), $0)
        })
    }

    public func serve(user id: String, seed: UInt64, through service: any RecommendationEndpoint, reward: RewardMapping) async throws -> ServedUserOutcome {
        simulator.reset(seed: seed, observation: &observation)
        var outcome = ServedUserOutcome(user: id, arm: .control, versions: [], listRewards: [], simulatedReturn: 0, measures: [:])
        while true {
            var request = RecommendRequest(user: id, k: 1)
            request.context = Dictionary(uniqueKeysWithValues: zip(EducationObservedLearner.contextColumns, simulator.observed.context.map(Double.init)))
            request.timestamp = clock.tick()
            let answer = try await service.recommend(request)
            guard answer.items.count == 1, let impression = answer.impression else {
                throw ClosedLoopError("the service answered \(answer.items.count) tasks\(answer.impression == nil ? " without an impression log" : ""); the tutor gives one")
            }
            guard let task = tasks[answer.items[0].id] else {
                throw ClosedLoopError("the service served '\(answer.items[0].id)' (by \(answer.version ?? "popularity")), which is not a task of the course")
            }
            outcome.arm = answer.arm
            outcome.versions.append(answer.version ?? "popularity")
            outcome.impressions.append(impression)
            outcome.listRewards.append(0)
            let context = request.context
            let (level, type) = EducationObservedLearner.task(task)
            let result = simulator.step(.multiDiscrete([Int32(level), Int32(type.rawValue)]), observation: &observation)
            outcome.simulatedReturn += Double(result.reward)
            for event in simulator.lastEvents where event.event != .impression {
                outcome.listRewards[outcome.listRewards.count - 1] += Double(reward.reward(for: Feedback(event.event, value: event.value)))
                try await service.feedback(FeedbackRequest(user: id, item: answer.items[0].id, event: event.event, value: event.value,
                                                           timestamp: clock.tick(), context: context, impression: (impression, 1)))
                outcome.feedbackPosted += 1
            }
            if result.terminated || result.truncated { break }
        }
        let s = simulator.statistics
        outcome.measures = ["sessions": Double(s.sessions), "tasks": Double(s.tasks), "completions": Double(s.completions),
                            "mastery_gained": Double(s.masteryGained), "skills_practised": Double(s.skillsPractised), "early_ends": Double(s.earlyEnds)]
        return outcome
    }
}
