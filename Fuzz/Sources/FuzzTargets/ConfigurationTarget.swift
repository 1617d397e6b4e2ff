import DRLAgents
import DRLNN
import DRLSimulation
import Foundation

/// A configuration file, loaded over each scenario's simulator defaults and each agent's
/// hyperparameters (a checkpoint's recorded ones may be an attacker's). What it accepts, written
/// out and loaded again, must give the same configuration text.
enum ConfigurationTarget {
    static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let path = FuzzScratch.file("configuration.json", input)
        let accepted = [try roundTrip(path, EcommerceConfiguration()), try roundTrip(path, VideoFeedConfiguration()),
                        try roundTrip(path, EducationConfiguration()), try roundTrip(path, DQNConfiguration()),
                        try roundTrip(path, SACConfiguration()), try roundTrip(path, TD3Configuration()),
                        try roundTrip(path, A2CConfiguration()), try roundTrip(path, DiscreteSACConfiguration())]
        return accepted.contains(true)
    }

    private static func roundTrip<Configuration: FileConfigurable>(_ path: String, _ defaults: Configuration) throws(FuzzFailure) -> Bool {
        var configuration = defaults
        guard (try? ConfigurationFile.load(path, into: &configuration)) != nil else { return false }
        let text = ConfigurationFile.text(of: configuration)
        var again = defaults
        do { try ConfigurationFile.load(text: text, origin: "written back", into: &again) } catch {
            throw FuzzFailure("\(Configuration.self) written back is refused: \(error)")
        }
        guard ConfigurationFile.text(of: again) == text else {
            throw FuzzFailure("\(Configuration.self) written back loads to another configuration")
        }
        return true
    }
}
