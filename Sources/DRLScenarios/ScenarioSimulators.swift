import DRLAgents
import DRLNN
import DRLSimulation
import DRLTensor

/// The scenarios' simulators as the recipes build them, with the settings of a configuration file
/// (see `ConfigurationFile`) when one is given.
public enum ScenarioSimulators {
    /// Where settings come from: a configuration file, or a file's text kept elsewhere (the
    /// settings a checkpoint records), with the place errors name.
    public enum Settings: Sendable {
        case file(String)
        case text(String, origin: String)

        var origin: String {
            switch self {
            case .file(let path): path
            case .text(_, let origin): origin
            }
        }
    }

    /// A maker of e-commerce or video simulators with the file's settings, each call a fresh
    /// simulator (see `slate(_:settings:historyTokens:)`).
    public static func slate(_ scenario: Scenario, configuration path: String?, historyTokens: Int? = nil)
        throws(ScenarioError) -> () -> RecommendationEnvironment {
        try slate(scenario, settings: path.map(Settings.file), historyTokens: historyTokens)
    }

    /// A maker of e-commerce or video simulators with these settings, each call a fresh
    /// simulator. `historyTokens` (e-commerce) asks for the sequence observation a state encoder
    /// reads, of that length unless the settings set one; settings that set one without it are
    /// refused, as only a state encoder reads that observation.
    public static func slate(_ scenario: Scenario, settings source: Settings?, historyTokens: Int? = nil)
        throws(ScenarioError) -> () -> RecommendationEnvironment {
        switch scenario {
        case .video:
            var settings = VideoFeedConfiguration()
            if let source { try load(source, into: &settings) }
            return { VideoFeedSimulator(configuration: settings) }
        case .ecommerce:
            var settings = EcommerceConfiguration()
            if let source {
                try load(source, into: &settings)
                guard settings.historyTokens == 0 || historyTokens != nil else {
                    throw .configuration(ConfigurationFileError(
                        path: source.origin, reason: "'history_tokens' makes the observation a sequence of item ids, which only a state encoder reads (train with --state-encoder)"))
                }
            }
            if let historyTokens, settings.historyTokens == 0 { settings.historyTokens = historyTokens }
            return { EcommerceSimulator(configuration: settings) }
        case .education:
            requirementFailure("ScenarioSimulators.slate: education serves tasks, not slates (use ScenarioSimulators.education)")
        }
    }

    /// A simulator's settings in full, as a checkpoint records them (`ConfigurationFile.text(of:)`).
    public static func settings(of simulator: Environment) -> String? {
        switch simulator {
        case let ecommerce as EcommerceSimulator: ConfigurationFile.text(of: ecommerce.configuration)
        case let video as VideoFeedSimulator: ConfigurationFile.text(of: video.configuration)
        case let education as EducationSimulator: ConfigurationFile.text(of: education.configuration)
        default: nil
        }
    }

    /// The education simulator's settings, from the file when one is given.
    public static func education(configuration path: String?) throws(ScenarioError) -> EducationConfiguration {
        try education(settings: path.map(Settings.file))
    }

    /// The education simulator's settings, from `source` when one is given.
    public static func education(settings source: Settings?) throws(ScenarioError) -> EducationConfiguration {
        var settings = EducationConfiguration()
        if let source { try load(source, into: &settings) }
        return settings
    }

    private static func load<Configuration: FileConfigurable>(_ source: Settings, into settings: inout Configuration) throws(ScenarioError) {
        do {
            switch source {
            case .file(let path): try ConfigurationFile.load(path, into: &settings)
            case .text(let text, let origin): try ConfigurationFile.load(text: text, origin: origin, into: &settings)
            }
        } catch { throw .configuration(error) }
    }
}
