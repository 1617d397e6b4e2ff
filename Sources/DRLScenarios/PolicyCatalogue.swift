import DRLAgents
import DRLSimulation
import DRLTensor
import Foundation

/// The policies of a scenario by name, and any policy a recipe's checkpoint holds, rebuilt from
/// what the file says about itself (`ScenarioCheckpoint`).
public struct PolicyCatalogue {
    public let scenario: Scenario
    /// The seed of the random policies.
    public let seed: UInt64
    /// The e-commerce platform's existing-user models, behind als, deep-ranker and the
    /// collaborative signal of its rankers; nil elsewhere.
    public let existing: ExistingUserModels?
    /// Where the education tutors "fixed" and "staircase" are tuned to their best.
    public var tuning = TutorTuning()

    public init(scenario: Scenario, seed: UInt64 = 0, existing: ExistingUserModels? = nil) {
        require(existing == nil || scenario == .ecommerce, "PolicyCatalogue: the existing-user models belong to ecommerce, not \(scenario.rawValue)")
        self.scenario = scenario
        self.seed = seed
        self.existing = existing
    }

    /// The strongest baseline, the default control of an A/B test.
    public var strongestBaseline: String {
        switch scenario {
        case .ecommerce: "als"
        case .video: "linucb"
        case .education: "staircase"
        }
    }

    /// A slate baseline by name, or the ranker in the checkpoint at that path.
    public func slatePolicy(_ name: String, for simulator: RecommendationEnvironment) throws(ScenarioError) -> SlatePolicy {
        require(scenario != .education, "PolicyCatalogue.slatePolicy: education serves tasks (use taskPolicy)")
        switch name {
        case "random": return RandomPolicy(seed: seed)
        case "popularity": return PopularityPolicy(catalogue: simulator.catalogue)
        case "myopic": return MyopicGreedyPolicy(catalogue: simulator.catalogue)
        case "mmr": return DiversifiedGreedyPolicy(catalogue: simulator.catalogue)
        case "linucb": return LinUCBPolicy(catalogue: simulator.catalogue)
        case "als" where existing != nil: return try existing!.als()
        case "deep-ranker" where existing != nil: return try existing!.deepRanker()
        default:
            let checkpoint = try self.checkpoint(name, expected: SlateRanker.kinds)
            let collaborative = try existing?.als().model
            let builder = WeightedSlateBuilder(for: simulator, collaborative: collaborative)
            let encoder = checkpoint.stateEncoder?.model
            guard encoder == nil || (simulator as? EcommerceSimulator)?.stateEncoderLayout != nil else {
                throw .stateEncoderOutsideEcommerce(path: name)
            }
            let agent: ContinuousControlAgent
            do {
                agent = try SlateRanker.agent(checkpoint.agentKind, for: simulator, builder: builder, gamma: SlateRanker.gamma(for: scenario),
                                              stateEncoder: encoder, hyperparameters: checkpoint.recordedHyperparameters, actingOnly: true, seed: 0)
            } catch { throw .configuration(error) }
            do { try agent.loadPolicy(from: name) } catch { throw .checkpoint(error) }
            return WeightedRankingPolicy(name: "\(checkpoint.agentKind) (\(name))", agent: agent, environment: simulator, collaborative: collaborative)
        }
    }

    /// An education tutor by name, or the two-path actor in the checkpoint at that path. "fixed"
    /// and "staircase" are tuned on `tuning`'s population; "fixed:LEVEL:TYPE" and
    /// "staircase:UP:START:TYPE" (TYPE video, exercise or article) name one setting.
    public func taskPolicy(_ name: String, for simulator: EducationSimulator) throws(ScenarioError) -> TaskPolicy {
        require(scenario == .education, "PolicyCatalogue.taskPolicy: \(scenario.rawValue) serves slates (use slatePolicy)")
        switch name {
        case "random": return RandomTaskPolicy(seed: seed)
        case "fixed": return FixedCurriculumPolicy(tuning.fixedCurricula(on: simulator)[0].settings)
        case "staircase": return StaircasePolicy(tuning.staircases(on: simulator)[0].settings)
        case "myopic": return MyopicTaskPolicy()
        case _ where name.hasPrefix("fixed:") || name.hasPrefix("staircase:"):
            return try Self.tutor(named: name, levels: simulator.configuration.difficultyLevels)
        default:
            let checkpoint = try checkpoint(name, expected: [Tutor.kind])
            let agent: A2CAgent
            do {
                agent = try Tutor.agent(observationDimension: simulator.observationDimension, configuration: simulator.configuration,
                                        hyperparameters: checkpoint.recordedHyperparameters, seed: 0)
            } catch { throw .configuration(error) }
            do { try agent.loadPolicy(from: name) } catch { throw .checkpoint(error) }
            return ActorTaskPolicy(name: "\(Tutor.kind) (\(name))", agent: agent)
        }
    }

    /// A rule-based tutor with the settings its name spells out.
    static func tutor(named name: String, levels: Int) throws(ScenarioError) -> TaskPolicy {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let isStaircase = parts[0] == "staircase"
        let form = isStaircase ? "staircase:UP:START:TYPE (UP at least 1)" : "fixed:LEVEL:TYPE"
        let numbers = parts.dropFirst().dropLast().compactMap { Int($0) }
        guard parts.count == (isStaircase ? 4 : 3), numbers.count == parts.count - 2,
              let type = ContentType.allCases.first(where: { "\($0)" == parts.last! }),
              numbers.last! >= 0, numbers.last! < levels, !isStaircase || numbers[0] >= 1 else {
            throw .tutorSettings(name: name, form: form, levels: levels)
        }
        return isStaircase ? StaircasePolicy(.init(up: numbers[0], startLevel: numbers[1], type: type))
                           : FixedCurriculumPolicy(.init(level: numbers[0], type: type))
    }

    /// The header of the checkpoint at `path`, refused unless it holds one of the `expected`
    /// agents trained on this scenario (or carries no scenario label).
    func checkpoint(_ path: String, expected: [String]) throws(ScenarioError) -> ScenarioCheckpoint {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .unknownPolicy(name: path, trainCommand: path == scenario.defaultCheckpoint ? scenario.trainCommand : nil)
        }
        let checkpoint = try ScenarioCheckpoint(path: path)
        guard expected.contains(checkpoint.agentKind) else {
            throw .wrongAgent(path: path, kind: checkpoint.agentKind, expected: expected, trainCommand: scenario.trainCommand)
        }
        if let trained = checkpoint.scenario, trained != scenario { throw .wrongScenario(path: path, trained: trained, asked: scenario) }
        return checkpoint
    }
}
