import ArgumentParser
import DRLAgents
import DRLNN
import DRLScenarios
import DRLSimulation
import Foundation

/// The run `drlrec train` makes, from its options over, with --from-checkpoint-config, what the
/// checkpoint records; and the agents' hyperparameters over their recipes' defaults.
extension TrainCommand {
    struct Plan {
        var env: EnvironmentName, agent: AgentName
        var seed: UInt64, steps: Int, evaluationInterval: Int, evaluationEpisodes: Int
        var stateEncoder: SequenceStateEncoder.Configuration.SequenceModel?
        var settings: ScenarioSimulators.Settings?
        /// The agent's hyperparameters in full, as a configuration file's text.
        var hyperparameters: String
        /// The recommendation scenario of the environment (nil for the control environments).
        var scenario: Scenario? { Scenario(rawValue: env.rawValue) }
        var record: TrainingRunRecord {
            TrainingRunRecord(env: env.rawValue, agent: agent.rawValue, seed: seed, steps: steps, evaluationInterval: evaluationInterval,
                              evaluationEpisodes: evaluationEpisodes, stateEncoder: stateEncoder?.rawValue)
        }

        /// The agent's configuration: `defaults` with every hyperparameter of the plan set.
        func configuration<Configuration: FileConfigurable>(_ defaults: Configuration) throws -> Configuration {
            var configuration = defaults
            try ConfigurationFile.load(text: hyperparameters, origin: "the run's hyperparameters", into: &configuration)
            return configuration
        }

        /// What --print-config prints: one JSON object.
        var description: String {
            let settingsText: String
            switch settings {
            case nil: settingsText = "null"
            case .text(let text, _)?: settingsText = text
            case .file(let path)?: settingsText = JSONText.string(path)
            }
            return #"{"run": \#(record.text), "hyperparameters": \#(hyperparameters), "settings": \#(settingsText)}"#
        }
    }

    /// The run the checkpoint of --from-checkpoint-config records, with its agent's hyperparameters
    /// and its simulator's settings.
    func recordedRun() throws -> (run: TrainingRunRecord, env: EnvironmentName, agent: AgentName, hyperparameters: String?, settings: String?)? {
        guard let path = fromCheckpointConfig else { return nil }
        let metadata: [String: String]
        do { metadata = try SafeTensors.describe(path).metadata } catch { throw CommandFailure("--from-checkpoint-config \(error)") }
        guard let text = metadata[TrainingRunRecord.key] else {
            throw CommandFailure("--from-checkpoint-config \(path): the file records no run (metadata '\(TrainingRunRecord.key)'); drlrec train writes it from version 0.1.0-dev")
        }
        let run = try TrainingRunRecord(text: text, origin: "\(path) (metadata '\(TrainingRunRecord.key)')")
        guard let env = EnvironmentName(rawValue: run.env), let agent = AgentName(rawValue: run.agent) else {
            throw CommandFailure("\(path) (metadata '\(TrainingRunRecord.key)'): the environment '\(run.env)' or the agent '\(run.agent)' is not one drlrec train runs")
        }
        return (run, env, agent, metadata[AgentCheckpoint.hyperparametersKey], metadata[ScenarioCheckpoint.settingsKey])
    }

    func plan() throws -> Plan {
        let recorded = try recordedRun()
        let env = envOption ?? recorded?.env ?? .cartpole
        let agent = self.agent ?? (env == recorded?.env ? recorded?.agent : nil) ?? [.cartpole: .dqn, .education: .a2c][env] ?? .sac
        let sameRun = env == recorded?.env && agent == recorded?.agent  // what the checkpoint records fits this run
        let scenario = Scenario(rawValue: env.rawValue)
        let steps = self.steps ?? (sameRun ? recorded?.run.steps : nil) ?? scenario?.defaultSteps ?? (agent == .dqn ? 100_000 : 50_000)
        let encoder: SequenceStateEncoder.Configuration.SequenceModel?
        if let stateEncoder {
            encoder = stateEncoder
        } else if sameRun, let name = recorded?.run.stateEncoder {
            guard let model = SequenceStateEncoder.Configuration.SequenceModel(rawValue: name) else {
                throw CommandFailure("\(fromCheckpointConfig!) (metadata '\(TrainingRunRecord.key)'): the state encoder '\(name)' is not one drlrec train builds")
            }
            encoder = model
        } else {
            encoder = nil
        }
        var settings = config.map(ScenarioSimulators.Settings.file)
        if settings == nil, sameRun, let text = recorded?.settings {
            settings = .text(text, origin: "\(fromCheckpointConfig!) (metadata '\(ScenarioCheckpoint.settingsKey)')")
        }
        let recordedHyperparameters = sameRun ? recorded?.hyperparameters : nil
        return Plan(env: env, agent: agent, seed: seedOption ?? (sameRun ? recorded?.run.seed : nil) ?? 0, steps: steps,
                    evaluationInterval: evaluationIntervalOption ?? (sameRun ? recorded?.run.evaluationInterval : nil) ?? (env == .education ? 200_000 : 5_000),
                    evaluationEpisodes: evaluationEpisodes ?? (sameRun ? recorded?.run.evaluationEpisodes : nil) ?? ([.cartpole, .pendulum].contains(env) ? 10 : 50),
                    stateEncoder: encoder, settings: settings,
                    hyperparameters: try hyperparameters(env: env, agent: agent, recorded: recordedHyperparameters))
    }

    /// The agent's hyperparameters in full: the recipe's, then those the checkpoint of
    /// --from-checkpoint-config records, then --agent-config's, then each --hyperparameter.
    private func hyperparameters(env: EnvironmentName, agent: AgentName, recorded: String?) throws -> String {
        func resolve<Configuration: FileConfigurable>(_ recipe: Configuration) throws -> String {
            var configuration = recipe
            // A file's refusal is a failure; a --hyperparameter's, a usage error.
            do {
                if let recorded {
                    try ConfigurationFile.load(text: recorded, origin: "\(fromCheckpointConfig!) (metadata '\(AgentCheckpoint.hyperparametersKey)')",
                                               into: &configuration)
                }
                if let agentConfig { try ConfigurationFile.load(agentConfig, into: &configuration) }
            } catch {
                throw CommandFailure("\(error)")
            }
            for setting in hyperparameterSettings {
                let (key, value) = try Self.hyperparameter(setting)
                do {
                    try ConfigurationFile.load(text: "{\(JSONText.string(key)): \(value)}", origin: "--hyperparameter \(setting)", into: &configuration)
                } catch {
                    throw ValidationError("\(error)")
                }
            }
            return ConfigurationFile.text(of: configuration)
        }
        let scenario = Scenario(rawValue: env.rawValue)
        switch agent {
        case .dqn: return try resolve(DQNConfiguration())
        case .sacDiscrete: return try resolve(DiscreteSACConfiguration())
        case .a2c: return try resolve(env == .education ? Tutor.a2cConfiguration : A2CConfiguration())
        case .sac: return try resolve(scenario.map { SlateRanker.sacConfiguration(gamma: SlateRanker.gamma(for: $0)) } ?? SACConfiguration())
        case .td3: return try resolve(scenario.map { SlateRanker.td3Configuration(gamma: SlateRanker.gamma(for: $0)) } ?? TD3Configuration())
        }
    }

    /// KEY and VALUE of a --hyperparameter KEY=VALUE, VALUE as JSON text: a JSON value as given,
    /// a comma list as a list, anything else as a string.
    static func hyperparameter(_ setting: String) throws -> (key: String, value: String) {
        guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
            throw ValidationError("--hyperparameter \(setting): give KEY=VALUE, such as learning_rate=3e-4")
        }
        let key = String(setting[..<equals]), value = String(setting[setting.index(after: equals)...])
        for candidate in [value, "[\(value)]"] where (try? JSONParser.parse(Array(candidate.utf8))) != nil {
            if candidate == value || value.contains(",") { return (key, candidate) }
        }
        return (key, JSONText.string(value))
    }
}
