import DRLAgents
import DRLNN
import DRLTensor
import Foundation
import Testing

@Suite struct BestCheckpointTests {
    /// The best evaluated agent is kept beside the last: the file records the first best
    /// evaluation's return and step, the agent it holds evaluates to that return again, and a
    /// resumed run replaces it only with an evaluation above the return it records.
    @Test func theBestEvaluatedAgentIsKeptBesideTheLast() throws {
        let last = AgentCheckpointTests.temporaryPath(), best = AgentCheckpointTests.temporaryPath()
        defer { for path in [last, best] { try? FileManager.default.removeItem(atPath: path) } }
        func agent() -> A2CAgent { A2CAgent(observationDimension: 4, choices: [2], environments: 4, seed: 8) }
        func environments() -> VectorEnvironment { VectorEnvironment((0..<4).map { _ in CartPole() }) }
        let records = try agent().train(on: environments(), steps: 20_000, seed: 9, evaluationEnvironment: CartPole(), evaluationInterval: 1_000,
                                        evaluationEpisodes: 1, checkpoints: CheckpointSchedule(to: last, best: best))
        let returns = records.map(\.meanReturn)
        #expect(Set(returns).count > 1, "the evaluations should differ for the test to say anything: \(returns)")
        let top = try #require(records.first { $0.meanReturn == returns.max() })
        let metadata = try SafeTensors.describe(best).metadata
        #expect(metadata[CheckpointSchedule.bestReturnKey] == "\(top.meanReturn)" && metadata[CheckpointSchedule.bestStepKey] == "\(top.step)",
                "\(metadata) for \(records.map { ($0.step, $0.meanReturn) })")
        let restored = A2CAgent(observationDimension: 4, choices: [2], environments: 4, seed: 77)
        _ = try restored.load(from: best)
        #expect(evaluate(CartPole(), episodes: 1, seed: 1_000) { restored.act($0, mode: .greedy) } == top.meanReturn)

        let resumed = agent()
        let loop = try resumed.load(from: last)
        let more = try resumed.train(on: environments(), steps: 20_000, seed: 9, evaluationEnvironment: CartPole(), evaluationInterval: 1_000,
                                     evaluationEpisodes: 1, checkpoints: CheckpointSchedule(to: last, best: best), resuming: loop)
        let expected = more.first { $0.meanReturn > top.meanReturn && $0.meanReturn == more.map(\.meanReturn).max() } ?? top
        let after = try SafeTensors.describe(best).metadata
        #expect(after[CheckpointSchedule.bestReturnKey] == "\(expected.meanReturn)" && after[CheckpointSchedule.bestStepKey] == "\(expected.step)",
                "\(after) after \(more.map { ($0.step, $0.meanReturn) }), best before \(top.step): \(top.meanReturn)")
    }
}
