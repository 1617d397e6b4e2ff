import DRLAgents
import DRLTensor
import Testing

/// Wraps an environment and keeps the return of every finished episode, independently of the
/// training loop's own bookkeeping.
final class EpisodeRecorder: Environment {
    let wrapped: Environment
    private(set) var finishedReturns: [Float] = []
    private var current: Float = 0

    init(_ wrapped: Environment) { self.wrapped = wrapped }
    var observationSpace: Space { wrapped.observationSpace }
    var actionSpace: Space { wrapped.actionSpace }

    func reset(seed: UInt64?, observation: inout Tensor) {
        current = 0
        wrapped.reset(seed: seed, observation: &observation)
    }

    func step(_ action: Action, observation: inout Tensor) -> StepResult {
        let result = wrapped.step(action, observation: &observation)
        current += result.reward
        if result.terminated || result.truncated { finishedReturns.append(current) }
        return result
    }
}

@Suite struct TrainingRecordTests {
    /// The records report the finished training episodes, the mean return of the last ten of them
    /// and the latest loss.
    @Test func dqnRecordsReportTrainingEpisodesAndLoss() throws {
        var configuration = DQNConfiguration()
        configuration.hiddenSizes = [16]
        configuration.learningStarts = 500
        configuration.trainFrequency = 64
        configuration.gradientSteps = 4
        let agent = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 0)
        let recorder = EpisodeRecorder(CartPole(seed: 0))
        var seen: [(record: EvaluationRecord, returns: [Float])] = []
        try agent.train(on: recorder, steps: 1_000, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: 250,
                        evaluationEpisodes: 1, progress: { seen.append(($0, recorder.finishedReturns)) })
        #expect(seen.count == 4)
        for (record, returns) in seen {
            #expect(record.trainingEpisodes == returns.count)
            let last = returns.suffix(10)
            #expect(record.recentTrainingReturn == last.reduce(0, +) / Float(last.count))
            // Learning starts at 500 stored transitions and then runs every 64 steps.
            #expect((record.loss != nil) == (record.step >= 512), "step \(record.step): loss \(String(describing: record.loss))")
        }
    }

    @Test func continuousRecordsReportTheCriticLoss() throws {
        var configuration = TD3Configuration()
        configuration.hiddenSizes = [8]
        configuration.batchSize = 16
        configuration.learningStarts = 250
        let agent = TD3Agent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: configuration, seed: 0)
        let recorder = EpisodeRecorder(Pendulum(seed: 0))
        var seen: [EvaluationRecord] = []
        try agent.train(on: recorder, steps: 400, seed: 0, evaluationEnvironment: Pendulum(), evaluationInterval: 200,
                        evaluationEpisodes: 1, progress: { seen.append($0) })
        #expect(seen.map(\.loss).map { $0 == nil } == [true, false])
        #expect(seen.last?.loss == agent.lastCriticLoss && (agent.lastCriticLoss ?? -1) >= 0)
        #expect(seen.last?.trainingEpisodes == 2 && recorder.finishedReturns.count == 2)
        #expect(seen.last?.recentTrainingReturn == recorder.finishedReturns.reduce(0, +) / 2)
    }
}
