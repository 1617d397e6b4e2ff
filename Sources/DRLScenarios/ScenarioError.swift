import DRLAgents
import DRLNN
import DRLSimulation
import DRLTensor

/// Why a recipe could not build what was asked: each case says what is wrong and with which file
/// or name.
public enum ScenarioError: Error, CustomStringConvertible {
    /// A simulator settings file that cannot be read, or whose settings do not go together.
    case configuration(ConfigurationFileError)
    /// `name` is neither a policy of the scenario nor an existing file; `trainCommand` is set when
    /// it is the scenario's default checkpoint, which that command writes.
    case unknownPolicy(name: String, trainCommand: String?)
    /// A checkpoint that holds an agent other than the scenario's policies take.
    case wrongAgent(path: String, kind: String, expected: [String], trainCommand: String)
    /// A checkpoint labelled with another scenario than the one it is asked to run on.
    case wrongScenario(path: String, trained: Scenario, asked: Scenario)
    /// A ranker with a state encoder reads the e-commerce simulator's sequence observation.
    case stateEncoderOutsideEcommerce(path: String)
    /// The two arms of an A/B test read different observations (history lengths, 0 for the
    /// summary observation); both run on one simulator.
    case differentObservations(histories: [Int])
    /// A policy that needs the e-commerce platform's click sequences, asked for elsewhere.
    case needsEcommerce(policy: String)
    /// A tutor name with settings ("staircase:…", "fixed:…") that do not parse or fit the simulator.
    case tutorSettings(name: String, form: String, levels: Int)
    /// An A/B population whose learners are among those the baseline tutors are tuned on.
    case populationOverlapsTuning(population: Range<UInt64>, tuning: Range<UInt64>)
    /// A checkpoint that cannot be read or does not fit its agent.
    case checkpoint(CheckpointError)
    /// Training one of the recipe's models failed (a loss became NaN or infinite).
    case training(model: String, Error)

    public var description: String {
        switch self {
        case .configuration(let error): "\(error)"
        case .unknownPolicy(let name, let command):
            "'\(name)' is neither a policy nor a checkpoint file" + (command.map { "; train one first with `\($0)`" } ?? "")
        case .wrongAgent(let path, let kind, let expected, let command):
            "\(path) holds a '\(kind)' agent; this A/B test needs one written by `\(command)` (\(expected.joined(separator: " or ")))"
        case .wrongScenario(let path, let trained, let asked):
            "\(path) holds an agent trained on \(trained.rawValue) (`\(trained.trainCommand)`); it does not run on \(asked.rawValue)"
        case .stateEncoderOutsideEcommerce(let path):
            "\(path) holds a ranker with a state encoder, trained by `drlrec train --env ecommerce --state-encoder`; it runs on ecommerce only"
        case .differentObservations(let histories):
            "the two checkpoints read different observations (history lengths \(histories), 0 for the summary observation); both arms run on one simulator"
        case .needsEcommerce(let policy): "\(policy) runs on ecommerce, whose platform keeps click sequences"
        case .tutorSettings(let name, let form, let levels):
            "'\(name)' is not \(form) with a level in 0..<\(levels) and TYPE one of \(ContentType.allCases.map { "\($0)" }.joined(separator: ", "))"
        case .populationOverlapsTuning(let population, let tuning):
            "the A/B test's learners (seeds \(population.lowerBound)..<\(population.upperBound)) include learners the baseline tutors are tuned on (seeds \(tuning.lowerBound)..<\(tuning.upperBound)); choose another --seed"
        case .checkpoint(let error): "\(error)"
        case .training(let model, let error): "training \(model): \(error)"
        }
    }
}
