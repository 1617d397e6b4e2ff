import DRLAgents
import DRLSimulation
import DRLTensor
import Testing

/// The reward's weights steer what is learned: the same two-path actor trained with a small and a
/// large weight on mastery (against the completion rewards) ends up asking for harder tasks, and
/// teaching more while completing fewer, when mastery weighs more (measured with weights 2 and 80:
/// mean level 0.57 against 1.08, mastery gained 0.29 against 0.34, completion 0.69 against 0.60).
@Suite struct ObjectiveWeightTests {
    func train(masteryReward: Float) throws -> (difficulty: Float, report: EducationReport) {
        var configuration = EducationConfiguration()
        configuration.masteryReward = masteryReward
        var settings = A2CConfiguration()
        settings.gamma = 0.97
        settings.entropyCoefficient = 0.01
        let agent = A2CAgent(observationDimension: EducationSimulator(configuration: configuration).observationDimension,
                             choices: [configuration.difficultyLevels, 3], environments: 8, configuration: settings, seed: 2)
        let vector = VectorEnvironment((0..<8).map { _ in EducationSimulator(configuration: configuration) })
        try agent.train(on: vector, steps: 300_000, seed: 3, evaluationEnvironment: EducationSimulator(configuration: configuration),
                        evaluationInterval: 300_000, evaluationEpisodes: 5)
        let tutor = ActorTaskPolicy(name: "a2c", agent: agent)
        let simulator = EducationSimulator(configuration: configuration)
        // The mean difficulty the tutor asks for over many learners' episodes.
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var total = 0, count = 0
        for learner in 0..<100 {
            simulator.reset(seed: 500 + UInt64(learner), observation: &observation)
            while true {
                let (level, type) = tutor.choose(simulator, observation: observation)
                total += level
                count += 1
                let result = simulator.step(.multiDiscrete([Int32(level), Int32(type.rawValue)]), observation: &observation)
                if result.terminated || result.truncated { break }
            }
        }
        return (Float(total) / Float(count), simulatePopulation(tutor, on: simulator, learners: 300, seed: 900))
    }

    @Test func aLargerMasteryWeightTeachesHarderTasks() throws {
        let low = try train(masteryReward: 2), high = try train(masteryReward: 80)
        #expect(high.difficulty > low.difficulty + 0.3)
        #expect(high.report.value(of: "mastery_gained") > low.report.value(of: "mastery_gained"))
        #expect(high.report.value(of: "task_completion_rate") < low.report.value(of: "task_completion_rate"))
    }
}
