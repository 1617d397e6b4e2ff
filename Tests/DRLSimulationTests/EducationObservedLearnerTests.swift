import DRLData
import DRLSimulation
import DRLTensor
import Testing

@Suite struct EducationObservedLearnerTests {

    /// The platform's view rebuilt from the events the simulator emitted and the course context
    /// alone gives, at every step of 80 learners, the observation the simulator gave its tutor. The
    /// events: the task given, its completion when completed, and a mastery when it took a skill
    /// over the threshold (once per skill the learner mastered during the episode). Half the
    /// learners get random tasks, half a staircase's (which masters skills).
    @Test func aHistoryRebuildsTheSimulatorsObservation() {
        let configuration = EducationConfiguration()
        let simulator = EducationSimulator(configuration: configuration)
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var rebuilt = observation
        var compared = 0, completions = 0, masteries = 0
        for learner in 0..<80 {
            let policy: any TaskPolicy = learner % 2 == 0 ? RandomTaskPolicy(seed: UInt64(learner)) : StaircasePolicy(.classic)
            simulator.reset(seed: UInt64(learner), observation: &observation)
            #expect(simulator.lastEvents.isEmpty)
            let unmastered = simulator.currentMastery.map { $0 < configuration.masteryThreshold }
            var history: [UserEvent] = []
            while true {
                EducationObservedLearner(configuration: configuration, history: history, context: simulator.observed.context)
                    .writeObservation(into: &rebuilt)
                #expect(rebuilt.scalars == observation.scalars, "learner \(learner), task \(history.count)")
                compared += 1
                let task = policy.choose(simulator, observation: observation)
                let result = simulator.step(.multiDiscrete([Int32(task.level), Int32(task.type.rawValue)]), observation: &observation)
                #expect(simulator.lastEvents.first == UserEvent(item: EducationObservedLearner.item(level: task.level, type: task.type),
                                                                 event: .impression, timestamp: Int64(simulator.statistics.tasks)))
                completions += simulator.lastEvents.filter { $0.event == .completion }.count
                #expect(simulator.lastEvents.dropFirst().allSatisfy { $0.event == .completion || $0.event == .mastery })
                history += simulator.lastEvents
                if result.terminated || result.truncated { break }
            }
            let mastered = zip(unmastered, simulator.currentMastery).filter { $0 && $1 >= configuration.masteryThreshold }.count
            #expect(history.filter { $0.event == .mastery }.count == mastered, "learner \(learner)")
            masteries += mastered
        }
        #expect(compared > 500 && completions > 200 && masteries >= 5, "\(compared) tasks, \(completions) completions, \(masteries) skills mastered")
    }

    @Test func tasksAndItemsCorrespond() {
        let tasks = EducationObservedLearner.tasks(configuration: EducationConfiguration())
        #expect(tasks == EducationConfiguration().difficultyLevels * ContentType.allCases.count)
        for item in Int32(0)..<Int32(tasks) {
            let task = EducationObservedLearner.task(item)
            #expect(EducationObservedLearner.item(level: task.level, type: task.type) == item)
        }
    }

    @Test func aContextOutsideTheCoursesValuesIsNamed() {
        let learner = EducationObservedLearner(configuration: EducationConfiguration())
        #expect(learner.contextProblem([0, 0, 0, 0, 0, 0]) == nil)
        #expect(learner.contextProblem([8, 0, 0, 0, 0, 0]) == "field 'skill' is 8.0; it must be a whole number in 0...7")
        #expect(learner.contextProblem([0, 0, 0, 0, 1.5, 0]) == "field 'failures' is 1.5; it must be a whole number in 0...2")
        #expect(learner.contextProblem([0, 0, 0, -1, 0, 0]) != nil)
    }
}
