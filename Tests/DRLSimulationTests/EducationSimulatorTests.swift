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
    /// away; the classic staircase teaches more than the middle-level syllabus and random tasks.
    @Test func baselinesBehaveAsDesigned() {
        let simulator = EducationSimulator()
        let policies: [TaskPolicy] = [RandomTaskPolicy(seed: 1), FixedCurriculumPolicy(.init(level: 2, type: .exercise)),
                                      StaircasePolicy(.classic), MyopicTaskPolicy()]
        let reports = policies.map { simulatePopulation($0, on: simulator, learners: 300, seed: 50) }
        let (random, fixed, staircase, myopic) = (reports[0], reports[1], reports[2], reports[3])
        let completion = "task_completion_rate", mastery = "mastery_gained"
        #expect(myopic.value(of: completion) > staircase.value(of: completion) + 0.2)
        #expect(myopic.value(of: mastery) < staircase.value(of: mastery))
        #expect(staircase.value(of: mastery) > fixed.value(of: mastery) && staircase.value(of: mastery) > random.value(of: mastery))
    }

    /// A k-up staircase climbs after k completions in a row and drops after each failure, and
    /// starts every new learner over at its start level.
    @Test func aStaircaseClimbsAfterKCompletionsInARow() {
        let simulator = EducationSimulator()
        let staircase = StaircasePolicy(.init(up: 2, startLevel: 1, type: .video))
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        for learner in UInt64(0)..<20 {
            simulator.reset(seed: learner, observation: &observation)
            var expected = 1, inARow = 0, skill = simulator.currentSkill
            while true {
                let (level, type) = staircase.choose(simulator, observation: observation)
                #expect(level == expected && type == .video, "learner \(learner), task \(simulator.statistics.tasks)")
                let completionsBefore = simulator.statistics.completions
                let result = simulator.step(.multiDiscrete([Int32(level), Int32(type.rawValue)]), observation: &observation)
                if result.terminated || result.truncated { break }
                if simulator.currentSkill != skill {
                    (expected, inARow, skill) = (1, 0, simulator.currentSkill)
                } else if simulator.statistics.completions > completionsBefore {
                    inARow += 1
                    if inARow == 2 { (expected, inARow) = (min(expected + 1, 4), 0) }
                } else {
                    (expected, inARow) = (max(expected - 1, 0), 0)
                }
            }
        }
    }

    /// Tuning ranks the whole grid by return on its own population, best first; the tuned
    /// staircase beats the classic one-up one-down rule on learners it was not tuned on, and far
    /// fewer of its sessions are cut short.
    @Test func tunedTutorsAreTheBestOfTheirGrids() {
        let simulator = EducationSimulator()
        var tuning = TutorTuning()
        tuning.learners = 200
        let staircases = tuning.staircases(on: simulator), fixed = tuning.fixedCurricula(on: simulator)
        #expect(staircases.count == 4 * 5 * 3 && fixed.count == 5 * 3)
        #expect(zip(staircases, staircases.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(zip(fixed, fixed.dropFirst()).allSatisfy { $0.score >= $1.score })
        let classic = staircases.first { $0.settings == .classic }!
        let again = simulatePopulation(StaircasePolicy(.classic), on: simulator, learners: 200, seed: tuning.seed)
        #expect(again.returns == classic.report.returns)
        let best = staircases[0].settings
        #expect(best != .classic)
        let heldOut = [StaircasePolicy(best), StaircasePolicy(.classic)].map { simulatePopulation($0, on: simulator, learners: 300, seed: 50) }
        #expect(heldOut[0].value(of: "return_per_learner") > heldOut[1].value(of: "return_per_learner"))
        let earlyEnds = heldOut.map { $0.value(of: "early_session_ends") }
        #expect(earlyEnds[0] < earlyEnds[1] - 0.1, "tuned \(best) against the classic staircase: \(earlyEnds)")
    }

    /// A session that fatigue ends on its last allowed task ran its full length: it is not early.
    /// Exercises tire a learner past 0.7 on the 12th task (1 − 0.9¹² ≈ 0.72); with frustration and boredom off,
    /// 12-task sessions never end early and 13-task sessions always do.
    @Test func onlySessionsCutBeforeTheirLengthEndEarly() {
        for (length, early) in [(12, false), (13, true)] {
            var configuration = EducationConfiguration()
            (configuration.sessionTasks, configuration.frustrationLimit, configuration.boredomLimit) = (length, 1_000, 1_000)
            let simulator = EducationSimulator(configuration: configuration)
            let report = simulatePopulation(FixedCurriculumPolicy(.init(level: 2, type: .exercise)), on: simulator, learners: 50, seed: 3)
            let sessions = report.learners.reduce(0) { $0 + $1.sessions }
            #expect(report.learners.allSatisfy { $0.tasks == 12 * $0.sessions }, "every session is 12 tasks long")
            #expect(report.learners.reduce(0) { $0 + $1.earlyEnds } == (early ? sessions : 0), "length \(length)")
        }
    }
}
