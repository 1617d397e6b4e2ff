import DRLTensor

/// Mean undiscounted return of `episodes` episodes of `policy` (observation → action), each
/// started with its own seed so that the evaluation is reproducible.
public func evaluate(_ environment: Environment, episodes: Int, seed: UInt64, policy: (Tensor) -> Action) -> Float {
    require(episodes > 0, "evaluate needs at least one episode")
    var observation = Tensor(zeros: Shape(environment.observationSpace.dimension))
    var total: Float = 0
    for episode in 0..<episodes {
        environment.reset(seed: seed &+ UInt64(episode), observation: &observation)
        while true {
            let result = environment.step(policy(observation), observation: &observation)
            total += result.reward
            if result.terminated || result.truncated { break }
        }
    }
    return total / Float(episodes)
}

/// One greedy evaluation during training, with the training run's statistics at that point.
public struct EvaluationRecord: Sendable, Equatable {
    public let step: Int
    /// Mean return of the greedy (deterministic) policy over the evaluation episodes.
    public let meanReturn: Float
    /// Training episodes finished so far.
    public let trainingEpisodes: Int
    /// Mean return of the last (up to) `TrainingEpisodes.window` finished training episodes,
    /// exploration included; nil before the first one ends.
    public let recentTrainingReturn: Float?
    /// The agent's latest training loss (DQN's Huber loss, the critics' loss for SAC and TD3);
    /// nil before learning starts.
    public let loss: Float?
}

/// Returns of the training episodes, as the training loops report them: a running episode sum and
/// a fixed ring of the last `window` finished episodes, so recording allocates nothing.
struct TrainingEpisodes: Sendable {
    static let window = 10
    private var returns = [Float](repeating: 0, count: window)
    private(set) var finished = 0
    /// The running return of the episode in progress (single-environment loops).
    private(set) var current: Float = 0

    init() {}

    mutating func record(reward: Float, episodeEnded: Bool) {
        current += reward
        guard episodeEnded else { return }
        record(finishedReturn: current)
        current = 0
    }

    /// Records an episode whose return was summed elsewhere (by a `VectorEnvironment`).
    mutating func record(finishedReturn: Float) {
        returns[finished % Self.window] = finishedReturn
        finished += 1
    }

    /// Exact text of the statistics for a checkpoint: finished count, running return, ring.
    var stateDescription: String { "\(finished)|" + FloatText.encode([current] + returns) }

    init?(stateDescription text: String) {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 2, let finished = Int(parts[0]), finished >= 0,
              let values = FloatText.decode(String(parts[1])), values.count == Self.window + 1 else { return nil }
        self.finished = finished
        current = values[0]
        returns = Array(values[1...])
    }

    var recentMean: Float? {
        guard finished > 0 else { return nil }
        let n = min(finished, Self.window)
        return returns[0..<n].reduce(0, +) / Float(n)
    }
}

/// Evaluation every `interval` environment steps with an optional early stop: the part of the
/// agents' training loops that they share. Loops that advance several steps at a time (vectorised
/// environments) evaluate when they pass a multiple of the interval.
struct PeriodicEvaluation {
    let environment: Environment, interval: Int, episodes: Int, seed: UInt64, stopAtReturn: Float?
    private(set) var records: [EvaluationRecord] = []
    private var nextDue: Int
    /// The best mean return so far, and whether the latest call evaluated a return above it.
    private(set) var bestReturn: Float
    private(set) var latestIsBest = false

    /// Evaluations fall on multiples of `interval` of the agent's step count, which starts at
    /// `startingAt` (non-zero for a restored agent); `bestSoFar` is the best return of the run
    /// before it was resumed.
    init(environment: Environment, interval: Int, episodes: Int, seed: UInt64, stopAtReturn: Float?, startingAt start: Int = 0,
         bestSoFar: Float? = nil) {
        require(interval > 0 && episodes > 0, "evaluation interval \(interval) and episodes \(episodes) must be positive")
        self.environment = environment
        self.interval = interval
        self.episodes = episodes
        self.seed = seed
        self.stopAtReturn = stopAtReturn
        nextDue = (start / interval + 1) * interval
        bestReturn = bestSoFar ?? -.infinity
    }

    /// After `completedSteps` environment steps: evaluates `policy`'s greedy actions when due and
    /// reports it. Returns true when training should stop.
    mutating func afterSteps(_ completedSteps: Int, training: TrainingEpisodes, loss: Float?, policy: Policy,
                             progress: (EvaluationRecord) -> Void) -> Bool {
        latestIsBest = false
        guard completedSteps >= nextDue else { return false }
        nextDue = (completedSteps / interval + 1) * interval
        let record = EvaluationRecord(step: completedSteps,
                                      meanReturn: evaluate(environment, episodes: episodes, seed: seed) { policy.act($0, mode: .greedy) },
                                      trainingEpisodes: training.finished, recentTrainingReturn: training.recentMean, loss: loss)
        records.append(record)
        if record.meanReturn > bestReturn { (bestReturn, latestIsBest) = (record.meanReturn, true) }
        progress(record)
        return stopAtReturn.map { record.meanReturn >= $0 } ?? false
    }
}
