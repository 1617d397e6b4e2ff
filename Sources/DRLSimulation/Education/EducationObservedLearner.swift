import DRLData
import DRLTensor

/// What the learning platform has observed of one learner, and the observation its tutor reads,
/// built from nothing else: the course context (the skill being practised, the session's task
/// count, the day, tasks spent on the skill, the failure and too-easy streaks) and the learner's
/// events in order. The simulator keeps one per learner and feeds it the events it emits; a served
/// tutor rebuilds one from the history the service kept and the request's context. Both go
/// through `record`, so a tutor sees the same state in training and in serving.
///
/// A task is an item: difficulty level `l` and content type `t` are item `l · 3 + t` (see
/// `item(level:type:)`). The events: an `.impression` of the task given (a new task), then a
/// `.completion` of it when the learner completed it, and a `.mastery` when it completed a skill
/// (the course context's skill says which skill is next). Other kinds change nothing.
public struct EducationObservedLearner: Sendable {
    /// The context columns a served tutor takes, in the order of `context`.
    public static let contextColumns = ["skill", "session_task", "day", "tasks_on_skill", "failures", "easy_streak"]

    private let skills: Int, difficultyLevels: Int, days: Int, sessionTasks: Int, frustrationLimit: Int, boredomLimit: Int

    // The course context.
    public var skill = 0
    public var sessionTask = 0, day = 0, tasksOnSkill = 0, failures = 0, easyStreak = 0

    // What the events built.
    /// Whether each of the last 5 tasks was completed.
    public private(set) var recentOutcomes: [Bool] = []
    /// The last task given: its difficulty level, content type and whether it was completed.
    public private(set) var lastLevel = 0, lastType = ContentType.video, lastCompleted = false
    private var lastItem: Int32?

    public init(configuration: EducationConfiguration) {
        let c = configuration
        (skills, difficultyLevels, days, sessionTasks) = (c.skills, c.difficultyLevels, c.days, c.sessionTasks)
        (frustrationLimit, boredomLimit) = (c.frustrationLimit, c.boredomLimit)
    }

    /// A new learner: the context back to its defaults and no events (the storage is kept, so a
    /// simulator's new episode allocates nothing).
    public mutating func startOver() {
        (skill, sessionTask, day, tasksOnSkill, failures, easyStreak) = (0, 0, 0, 0, 0, 0)
        recentOutcomes.removeAll(keepingCapacity: true)
        (lastLevel, lastType, lastCompleted, lastItem) = (0, .video, false, nil)
    }

    /// The learner rebuilt from a history (oldest first) and a context in the order of
    /// `contextColumns`; check the context with `contextProblem` first.
    public init(configuration: EducationConfiguration, history: some Sequence<UserEvent>, context: [Float]) {
        self.init(configuration: configuration)
        setContext(context)
        for event in history { record(event) }
    }

    /// The tasks as items: every difficulty level with every content type.
    public static func tasks(configuration: EducationConfiguration) -> Int { configuration.difficultyLevels * ContentType.allCases.count }

    /// The item of the task of `level` and `type`.
    public static func item(level: Int, type: ContentType) -> Int32 { Int32(level * ContentType.allCases.count + type.rawValue) }

    /// The task an item stands for.
    public static func task(_ item: Int32) -> (level: Int, type: ContentType) {
        let types = ContentType.allCases.count
        return (Int(item) / types, ContentType(rawValue: Int(item) % types)!)
    }

    // MARK: Context

    /// The course context in the order of `contextColumns`.
    public var context: [Float] {
        [Float(skill), Float(sessionTask), Float(day), Float(tasksOnSkill), Float(failures), Float(easyStreak)]
    }

    /// Why `context` is not a context of this course (nil when it is): each field named with the
    /// values it may take.
    public func contextProblem(_ context: [Float]) -> String? {
        let limits = [skills - 1, sessionTasks, days, Int(Int32.max), frustrationLimit, boredomLimit]
        return VisitContext.problem(context, columns: Self.contextColumns,
                                    rules: limits.map { VisitContext.whole(in: 0...$0, "a whole number in 0...\($0)") })
    }

    /// Sets the course context from values in the order of `contextColumns` (see `contextProblem`).
    public mutating func setContext(_ context: [Float]) {
        require(contextProblem(context) == nil, "EducationObservedLearner: context \(context) \(contextProblem(context) ?? "")")
        (skill, sessionTask, day) = (Int(context[0]), Int(context[1]), Int(context[2]))
        (tasksOnSkill, failures, easyStreak) = (Int(context[3]), Int(context[4]), Int(context[5]))
    }

    // MARK: Events

    /// Adds one event to what the platform knows (see the type's description).
    public mutating func record(_ event: UserEvent) {
        guard (0..<Int32(difficultyLevels * ContentType.allCases.count)).contains(event.item) else { return }
        switch event.event {
        case .impression:
            (lastLevel, lastType) = Self.task(event.item)
            (lastCompleted, lastItem) = (false, event.item)
            recentOutcomes.append(false)
            if recentOutcomes.count > 5 { recentOutcomes.removeFirst() }
        case .completion where event.item == lastItem && !lastCompleted:
            lastCompleted = true
            recentOutcomes[recentOutcomes.count - 1] = true
        default: break
        }
    }

    // MARK: Observation

    /// The tutor's observation (12 + skills; see `EducationSimulator`).
    public func writeObservation(into observation: inout Tensor) {
        require(observation.count == 12 + skills, "EducationObservedLearner: the observation has \(12 + skills) elements, got \(observation.shape)")
        observation.withUnsafeMutableBufferPointer { o in
            for k in 0..<o.count { o[k] = 0 }
            o[skill] = 1
            let base = skills
            o[base] = recentOutcomes.isEmpty ? 0.5 : Float(recentOutcomes.filter { $0 }.count) / Float(recentOutcomes.count)
            o[base + 1] = Float(lastLevel) / Float(difficultyLevels - 1)
            o[base + 2] = lastCompleted ? 1 : 0
            o[base + 3 + lastType.rawValue] = recentOutcomes.isEmpty ? 0 : 1
            o[base + 6] = Float(sessionTask) / Float(sessionTasks)
            o[base + 7] = Float(day) / Float(days)
            o[base + 8] = min(Float(tasksOnSkill) / 10, 1)
            o[base + 9] = Float(failures) / Float(frustrationLimit)
            o[base + 10] = Float(easyStreak) / Float(boredomLimit)
            o[base + 11] = Float(skill) / Float(max(skills - 1, 1))
        }
    }
}
