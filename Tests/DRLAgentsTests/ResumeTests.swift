import DRLAgents
import DRLNN
import DRLTensor
import Foundation
import Testing

/// A run saved part-way by its training loop and resumed by a fresh agent with fresh environments
/// (as a new process would) writes a final checkpoint byte for byte identical to the one of the
/// uninterrupted run: networks, optimizer moments, replay, counters, generators, environment
/// state and episode statistics all continued exactly.
@Suite struct ResumeTests {
    /// Runs `total` steps straight, then `split` steps and the rest from the checkpoint, and
    /// returns the two final checkpoints' bytes.
    func finalCheckpoints(total: Int, split: Int, run: (_ steps: Int, _ load: String?, _ save: String) throws -> Void) throws -> (Data, Data) {
        let straight = AgentCheckpointTests.temporaryPath(), part = AgentCheckpointTests.temporaryPath()
        let resumed = AgentCheckpointTests.temporaryPath()
        try run(total, nil, straight)
        try run(split, nil, part)
        try run(total - split, part, resumed)
        defer { for path in [straight, part, resumed] { try? FileManager.default.removeItem(atPath: path) } }
        return (try Data(contentsOf: URL(fileURLWithPath: straight)), try Data(contentsOf: URL(fileURLWithPath: resumed)))
    }

    @Test func dqnResumesExactly() throws {
        let (straight, resumed) = try finalCheckpoints(total: 1_500, split: 700) { steps, load, save in
            let agent = AgentCheckpointTests.smallDQN(seed: 4)
            let loop = try load.flatMap { path throws(CheckpointError) in try agent.load(from: path) }
            #expect((load == nil) == (loop == nil), "a checkpoint written by a training loop carries the loop's state")
            try agent.train(on: CartPole(seed: 99), steps: steps, seed: 5, evaluationEnvironment: CartPole(), evaluationInterval: 500,
                            evaluationEpisodes: 1, checkpoints: CheckpointSchedule(to: save), resuming: loop)
        }
        #expect(straight == resumed)
    }

    /// The shared loop's warm-up draws discrete actions too, from the same saved generator.
    @Test func dqnResumesExactlyInsideTheRandomWarmUp() throws {
        let (straight, resumed) = try finalCheckpoints(total: 600, split: 250) { steps, load, save in
            let agent = AgentCheckpointTests.smallDQN(seed: 4)
            let loop = try load.flatMap { path throws(CheckpointError) in try agent.load(from: path) }
            try agent.train(on: CartPole(seed: 99), steps: steps, seed: 5, randomSteps: 400, evaluationEnvironment: CartPole(),
                            evaluationInterval: 300, evaluationEpisodes: 1, checkpoints: CheckpointSchedule(to: save), resuming: loop)
        }
        #expect(straight == resumed)
    }

    @Test func sacResumesExactlyInsideTheRandomWarmUp() throws {
        var configuration = SACConfiguration()
        configuration.hiddenSizes = [16]
        configuration.batchSize = 16
        // The split falls inside the loop's uniform-random warm-up, whose generator is the loop's own.
        let (straight, resumed) = try finalCheckpoints(total: 400, split: 150) { steps, load, save in
            let agent = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: configuration, seed: 6)
            let loop = try load.flatMap { path throws(CheckpointError) in try agent.load(from: path) }
            try agent.train(on: Pendulum(seed: 98), steps: steps, seed: 7, randomSteps: 200, evaluationEnvironment: Pendulum(),
                            evaluationInterval: 200, evaluationEpisodes: 1, checkpoints: CheckpointSchedule(to: save), resuming: loop)
        }
        #expect(straight == resumed)
    }

    @Test func a2cResumesExactly() throws {
        let (straight, resumed) = try finalCheckpoints(total: 4_000, split: 1_600) { steps, load, save in
            let agent = A2CAgent(observationDimension: 4, choices: [2], environments: 4, seed: 8)
            let loop = try load.flatMap { path throws(CheckpointError) in try agent.load(from: path) }
            try agent.train(on: VectorEnvironment((0..<4).map { _ in CartPole() }), steps: steps, seed: 9,
                            evaluationEnvironment: CartPole(), evaluationInterval: 1_000, evaluationEpisodes: 1,
                            checkpoints: CheckpointSchedule(to: save), resuming: loop)
        }
        #expect(straight == resumed)
    }

    /// A saved run whose observations or environment state hold a NaN (a corrupted or hostile
    /// file) is refused when loaded, before anything could be trained on it.
    @Test func aSavedRunWithANonFiniteValueIsRefused() throws {
        let path = AgentCheckpointTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let agent = A2CAgent(observationDimension: 4, choices: [2], environments: 2, seed: 8)
        try agent.train(on: VectorEnvironment((0..<2).map { _ in CartPole() }), steps: 200, seed: 9, evaluationEnvironment: CartPole(),
                        evaluationInterval: 1_000, evaluationEpisodes: 1, checkpoints: CheckpointSchedule(to: path))
        let (tensors, metadata) = try SafeTensors.read(from: path)
        let nan = "7fc00000"
        for (key, expected) in [("drlrec.loop.observations", "'drlrec.loop.observations' holds a value that is NaN or infinite"),
                                ("drlrec.loop.episode_returns", "'drlrec.loop.episode_returns' holds a value that is NaN or infinite")] {
            var corrupted = metadata
            let text = try #require(metadata[key])
            corrupted[key] = nan + text.drop { $0 != "," && $0 != ";" }
            try SafeTensors.write(tensors, metadata: corrupted, to: path)
            #expect { _ = try A2CAgent(observationDimension: 4, choices: [2], environments: 2, seed: 8).load(from: path) } throws: {
                "\($0)".contains(expected)
            }
        }
        // An environment state with a NaN is not restored (the resume is refused, not trained on).
        let pole = CartPole()
        let state = pole.stateDescription
        let parts = state.split(separator: "|", omittingEmptySubsequences: false)
        #expect(pole.restore(stateDescription: state))
        #expect(!pole.restore(stateDescription: ([parts[0], Substring(nan + parts[1].drop { $0 != "," })] + parts.dropFirst(2)).joined(separator: "|")))
    }

    /// A saved run cannot be resumed in an environment of another kind: the error says so and
    /// nothing is trained.
    @Test func aSavedRunRefusesAnotherEnvironment() throws {
        let path = AgentCheckpointTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = SACConfiguration()
        configuration.hiddenSizes = [8]
        let agent = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: configuration, seed: 1)
        try agent.train(on: Pendulum(), steps: 50, seed: 1, evaluationEnvironment: Pendulum(), evaluationInterval: 50,
                        evaluationEpisodes: 1, checkpoints: CheckpointSchedule(to: path))
        let loop = try #require(try agent.load(from: path))
        let stepsBefore = agent.environmentSteps
        final class OtherPendulum: Environment {
            let inner = Pendulum()
            var observationSpace: Space { inner.observationSpace }
            var actionSpace: Space { inner.actionSpace }
            func reset(seed: UInt64?, observation: inout Tensor) { inner.reset(seed: seed, observation: &observation) }
            func step(_ action: Action, observation: inout Tensor) -> StepResult { inner.step(action, observation: &observation) }
        }
        #expect {
            try agent.train(on: OtherPendulum(), steps: 10, seed: 1, evaluationEnvironment: Pendulum(), evaluationInterval: 10, resuming: loop)
        } throws: { error in
            "\(error)".contains("cannot resume the saved run") && "\(error)".contains("not a ResumableEnvironment")
        }
        #expect(agent.environmentSteps == stepsBefore)
    }
}
