import DRLAgents
import DRLSimulation
import DRLTensor
import Testing

@Suite struct EducationSimulatorTests {
    func run(_ policy: TaskPolicy, seed: UInt64, check: (EducationSimulator, StepResult) -> Void = { _, _ in }) -> (EducationEpisodeStatistics, [Float]) {
        let simulator = EducationSimulator()
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var rewards: [Float] = []
        simulator.reset(seed: seed, observation: &observation)
        while true {
            let (level, type) = policy.choose(simulator, observation: observation)
            let result = simulator.step(.multiDiscrete([Int32(level), Int32(type.rawValue)]), observation: &observation)
            rewards.append(result.reward)
            check(simulator, result)
            if result.terminated || result.truncated { return (simulator.statistics, rewards) }
        }
    }

    @Test func aSeedFixesTheWholeEpisode() {
        let (a, ra) = run(RandomTaskPolicy(seed: 1), seed: 7), (b, rb) = run(RandomTaskPolicy(seed: 1), seed: 7)
        let (c, _) = run(RandomTaskPolicy(seed: 1), seed: 8)
        #expect(a == b && ra == rb && a != c)
    }

    /// Mastery never falls and stays in [0, 1]; fatigue and completion probabilities stay in
    /// [0, 1]; completion falls as tasks get harder; the session budget only falls within a session.
    @Test func learnerStateStaysBounded() {
        for seed in UInt64(0)..<40 {
            var previous: [Float]? = nil, budget = 0, sessions = 0
            _ = run(RandomTaskPolicy(seed: seed), seed: seed) { simulator, result in
                let mastery = simulator.currentMastery
                #expect(mastery.allSatisfy { (0...1).contains($0) })
                if let previous { #expect(zip(previous, mastery).allSatisfy { $0 <= $1 }) }
                previous = mastery
                #expect((0...1).contains(simulator.currentFatigue))
                let levels = (0..<simulator.configuration.difficultyLevels).map { simulator.completionProbability(level: $0, type: .video) }
                #expect(levels.allSatisfy { (0...1).contains($0) } && zip(levels, levels.dropFirst()).allSatisfy { $0 >= $1 })
                if !(result.terminated || result.truncated) {
                    if simulator.statistics.sessions == sessions { #expect(simulator.remainingSessionTasks == budget - 1) }
                    (budget, sessions) = (simulator.remainingSessionTasks, simulator.statistics.sessions)
                }
            }
        }
    }

    /// The myopic tutor (easiest tasks) completes the most but teaches least and bores learners
    /// away; the adaptive staircase teaches more than the fixed syllabus and random tasks.
    @Test func baselinesBehaveAsDesigned() {
        let simulator = EducationSimulator()
        let policies: [TaskPolicy] = [RandomTaskPolicy(seed: 1), FixedCurriculumPolicy(), StaircasePolicy(), MyopicTaskPolicy()]
        let reports = policies.map { simulatePopulation($0, on: simulator, learners: 300, seed: 50) }
        let (random, fixed, staircase, myopic) = (reports[0], reports[1], reports[2], reports[3])
        let completion = "task_completion_rate", mastery = "mastery_gained"
        #expect(myopic.value(of: completion) > staircase.value(of: completion) + 0.2)
        #expect(myopic.value(of: mastery) < staircase.value(of: mastery))
        #expect(staircase.value(of: mastery) > fixed.value(of: mastery) && staircase.value(of: mastery) > random.value(of: mastery))
    }
}
