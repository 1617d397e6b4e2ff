import DRLAgents
import DRLNN
import DRLTensor
import Foundation
import ScratchFiles
import Testing

/// Agents' hyperparameters as configuration files: every kind of key sets its field and refuses
/// what it cannot take, naming the key; a configuration written out reads back to itself; every
/// checkpoint records its agent's.
@Suite struct AgentHyperparametersTests {
    func loaded<Configuration: FileConfigurable>(_ text: String, into defaults: Configuration) throws(ConfigurationFileError) -> Configuration {
        var configuration = defaults
        try ConfigurationFile.load(text: text, origin: "test", into: &configuration)
        return configuration
    }

    @Test func eachKindOfKeySetsItsField() throws {
        let dqn = try loaded(#"{"hidden_sizes": [32, 16, 8], "double_q": false, "tau": 0.01, "final_learning_rate": null, "learning_rate": 3e-4}"#,
                             into: DQNConfiguration())
        #expect(dqn.hiddenSizes == [32, 16, 8] && !dqn.double && dqn.polyakTau == 0.01 && dqn.finalLearningRate == nil && dqn.learningRate == 3e-4)
        #expect(dqn.batchSize == DQNConfiguration().batchSize)
        let a2c = try loaded(#"{"activation": "relu", "n_steps": 16}"#, into: A2CConfiguration())
        #expect(a2c.activation == .relu && a2c.rolloutSteps == 16)
        let sac = try loaded(#"{"target_entropy": -3}"#, into: SACConfiguration())
        #expect(sac.targetEntropy == -3)
    }

    @Test(arguments: [
        (#"{"hidden_sizes": [32, 0]}"#, "hidden_sizes", "must be a list of 1 to 8 integers in 1...4096, got 0.0 in it"),
        (#"{"hidden_sizes": []}"#, "hidden_sizes", "must be a list of 1 to 8 integers in 1...4096, got an array"),
        (#"{"hidden_sizes": 64}"#, "hidden_sizes", "got 64.0"),
        (#"{"double_q": 1}"#, "double_q", "must be true or false, got 1.0"),
        (#"{"tau": "none"}"#, "tau", "must be null or a number in 1e-06...1.0, got \"none\""),
        (#"{"learning_rate": 0}"#, "learning_rate", "must be a number in 1e-08...1.0, got 0.0"),
        (#"{"batch_size": 1.5}"#, "batch_size", "must be an integer in 1...65536, got 1.5"),
    ])
    func badValuesAreRefusedNamingTheKey(text: String, key: String, reason: String) throws {
        var configuration = DQNConfiguration()
        #expect {
            try ConfigurationFile.load(text: text, origin: "agent.json", into: &configuration)
        } throws: { error in
            let error = error as! ConfigurationFileError
            return error.path == "agent.json" && error.key == key && error.reason.contains(reason)
        }
        #expect(configuration.hiddenSizes == [256, 256] && configuration.double && configuration.learningRate == DQNConfiguration().learningRate)
    }

    @Test func choicesAndContradictionsAreRefused() throws {
        #expect { try loaded(#"{"activation": "log"}"#, into: A2CConfiguration()) } throws: {
            ($0 as! ConfigurationFileError).reason == #"must be one of "relu", "gelu", "tanh", "sigmoid", "softplus", got "log""#
        }
        #expect { try loaded(#"{"target_entropy_ratio": 1}"#, into: DiscreteSACConfiguration()) } throws: {
            ($0 as! ConfigurationFileError).reason.contains("strictly between 0 and 1")
        }
        #expect { try loaded(#"{"gamma": 0.9,}"#, into: SACConfiguration()) } throws: { ($0 as! ConfigurationFileError).reason.hasPrefix("not valid JSON") }
    }

    /// Written out and read back over another configuration's values, every agent's
    /// configuration is itself again, with every key it has.
    @Test func aConfigurationWrittenOutReadsBackToItself() throws {
        var dqn = DQNConfiguration()
        (dqn.hiddenSizes, dqn.polyakTau, dqn.finalLearningRate, dqn.epsilonEnd, dqn.prioritized) = ([7, 9], 0.3, nil, 0.07, true)
        let text = ConfigurationFile.text(of: dqn)
        #expect(text.contains(#""exploration_final_eps":0.07"#) && text.contains(#""hidden_sizes":[7,9]"#) && text.contains(#""final_learning_rate":null"#))
        var other = DQNConfiguration()
        (other.hiddenSizes, other.polyakTau, other.finalLearningRate) = ([1], nil, 0.5)
        #expect(ConfigurationFile.text(of: try loaded(text, into: other)) == text)
        var a2c = A2CConfiguration()
        (a2c.activation, a2c.normalizeAdvantages) = (.gelu, false)
        #expect(ConfigurationFile.text(of: try loaded(ConfigurationFile.text(of: a2c), into: A2CConfiguration())) == ConfigurationFile.text(of: a2c))
        func roundTrips<Configuration: FileConfigurable>(_ configuration: Configuration) throws -> Bool {
            let text = ConfigurationFile.text(of: configuration)
            return ConfigurationFile.text(of: try loaded(text, into: configuration)) == text
                && text.filter { $0 == ":" }.count == Configuration.fileKeys.count
        }
        #expect(try roundTrips(SACConfiguration()) && roundTrips(TD3Configuration()) && roundTrips(DiscreteSACConfiguration())
                && roundTrips(CQLConfiguration()) && roundTrips(TopKReinforceConfiguration()))
    }

    /// Both kinds of checkpoint record the agent's hyperparameters in full.
    @Test func checkpointsRecordTheHyperparameters() throws {
        var configuration = TD3Configuration()
        configuration.hiddenSizes = [12]
        configuration.policyDelay = 3
        let agent = TD3Agent(observationDimension: 3, actionLow: [-1], actionHigh: [1], configuration: configuration, seed: 0)
        for contents in CheckpointContents.allCases {
            let path = Scratch.path("td3.safetensors")
            try agent.save(to: path, contents: contents)
            let recorded = try #require(try SafeTensors.describe(path).metadata[AgentCheckpoint.hyperparametersKey])
            #expect(recorded == ConfigurationFile.text(of: configuration))
            let read = try loaded(recorded, into: TD3Configuration())
            #expect(read.hiddenSizes == [12] && read.policyDelay == 3)
        }
    }
}
