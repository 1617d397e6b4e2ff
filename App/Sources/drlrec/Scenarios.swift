import DRLSimulation
import ArgumentParser

/// The recommendation simulators as the commands build them, with the settings of a `--config` file.
enum Scenarios {
    /// A maker of e-commerce or video simulators with the file's settings (each call a fresh
    /// simulator). `historyTokens` (e-commerce) asks for the sequence observation of a state
    /// encoder, of that length unless the file sets one.
    static func slateSimulatorFactory(video: Bool, config: String?, historyTokens: Int? = nil) throws -> () -> RecommendationEnvironment {
        if video {
            var settings = VideoFeedConfiguration()
            if let config { try load(config, into: &settings) }
            return { VideoFeedSimulator(configuration: settings) }
        }
        var settings = EcommerceConfiguration()
        if let config {
            try load(config, into: &settings)
            guard settings.historyTokens == 0 || historyTokens != nil else {
                throw ValidationError("--config \(config): 'history_tokens' makes the observation a sequence of item ids, which only a state encoder reads (train with --state-encoder)")
            }
        }
        if let historyTokens, settings.historyTokens == 0 { settings.historyTokens = historyTokens }
        return { EcommerceSimulator(configuration: settings) }
    }

    static func educationConfiguration(_ config: String?) throws -> EducationConfiguration {
        var settings = EducationConfiguration()
        if let config { try load(config, into: &settings) }
        return settings
    }

    /// The library's loader, its refusals as usage errors that name the option.
    private static func load<Configuration: FileConfigurable>(_ path: String, into settings: inout Configuration) throws {
        do { try ConfigurationFile.load(path, into: &settings) } catch { throw ValidationError("--config \(error)") }
    }
}
