import DRLAgents
import DRLNN
import DRLTensor
import Foundation
import ScratchFiles
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

/// CartPole whose rewards turn NaN from the given step on.
final class PoisonedCartPole: Environment {
    let wrapped = CartPole(seed: 0)
    let poisonFrom: Int
    private var steps = 0

    init(poisonFrom: Int) { self.poisonFrom = poisonFrom }
    var observationSpace: Space { wrapped.observationSpace }
    var actionSpace: Space { wrapped.actionSpace }
    func reset(seed: UInt64?, observation: inout Tensor) { wrapped.reset(seed: seed, observation: &observation) }

    func step(_ action: Action, observation: inout Tensor) -> StepResult {
        var result = wrapped.step(action, observation: &observation)
        steps += 1
        if steps >= poisonFrom { result.reward = .nan }
        return result
    }
}

@Suite struct TrainingLoopTests {
    static func smallDQN() -> DQNAgent {
        var configuration = DQNConfiguration()
        configuration.hiddenSizes = [16]
        configuration.learningStarts = 100
        configuration.trainFrequency = 50
        configuration.gradientSteps = 2
        return DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 0)
    }

    /// A scheduled checkpoint holds the agent as it was at the last multiple of the interval, and
    /// the run's end writes it once more.
    @Test func scheduledCheckpointsAreWrittenEveryIntervalAndAtTheEnd() throws {
        let path = Scratch.path("schedule")
        let agent = Self.smallDQN()
        var savedAtEvaluations: [Int] = []
        try agent.train(on: CartPole(seed: 0), steps: 600, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: 300,
                        evaluationEpisodes: 1, checkpoints: CheckpointSchedule(every: 250, to: path)) { _ in
            let restored = Self.smallDQN()
            _ = try? restored.load(from: path)
            savedAtEvaluations.append(restored.environmentSteps)
        }
        #expect(savedAtEvaluations == [250, 500])
        let restored = Self.smallDQN()
        try restored.load(from: path)
        #expect(restored.environmentSteps == 600 && agent.environmentSteps == 600)
    }

    @Test func anUnwritableCheckpointStopsTrainingWithTheStep() throws {
        let agent = Self.smallDQN()
        #expect {
            try agent.train(on: CartPole(seed: 0), steps: 600, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: 1_000,
                            checkpoints: CheckpointSchedule(every: 250, to: "/nonexistent-drlrec-directory/agent.safetensors"))
        } throws: { error in
            guard case .checkpoint(let step, _) = error as? TrainingError else { return false }
            return step == 250
        }
        #expect(agent.environmentSteps == 250)
    }

    /// A NaN reward poisons the TD targets: training stops at that step, naming the quantity,
    /// and the parameters stay finite.
    @Test func aNaNStopsTrainingWithTheStepAndQuantity() throws {
        let agent = Self.smallDQN()
        #expect {
            try agent.train(on: PoisonedCartPole(poisonFrom: 120), steps: 600, seed: 0, evaluationEnvironment: CartPole(),
                            evaluationInterval: 1_000)
        } throws: { error in
            guard case .nonFinite(let step, let cause) = error as? TrainingError else { return false }
            return step == 150 && String(describing: error).contains("environment step 150") && !cause.parameter.isEmpty
        }
        #expect(agent.onlineStore.firstNonFinite(inValues: true) == nil)
    }

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
        try agent.train(on: recorder, steps: 400, seed: 0, randomSteps: 100, evaluationEnvironment: Pendulum(), evaluationInterval: 200,
                        evaluationEpisodes: 1, progress: { seen.append($0) })
        #expect(seen.map(\.loss).map { $0 == nil } == [true, false])
        #expect(seen.last?.loss == agent.lastCriticLoss && (agent.lastCriticLoss ?? -1) >= 0)
        #expect(seen.last?.trainingEpisodes == 2 && recorder.finishedReturns.count == 2)
        #expect(seen.last?.recentTrainingReturn == recorder.finishedReturns.reduce(0, +) / 2)
    }
}
