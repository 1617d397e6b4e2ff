import ArgumentParser
import DRLRecommend

/// The recommendation simulators as the commands build them, with the settings of a `--config` file.
enum Scenarios {
    /// A maker of e-commerce or video simulators with the file's settings (each call a fresh simulator).
    static func slateSimulatorFactory(video: Bool, config: String?) throws -> () -> RecommendationEnvironment {
        if video {
            var settings = VideoFeedConfiguration()
            if let config {
                try ConfigurationFile.load(config, into: &settings)
                try ConfigurationFile.checkCatalogue(items: settings.items, categories: settings.categories, slateSize: settings.slateSize, path: config)
            }
            return { VideoFeedSimulator(configuration: settings) }
        }
        var settings = EcommerceConfiguration()
        if let config {
            try ConfigurationFile.load(config, into: &settings)
            try ConfigurationFile.checkCatalogue(items: settings.items, categories: settings.categories, slateSize: settings.slateSize, path: config)
            guard settings.segmentCategories <= settings.categories else {
                throw ValidationError("--config \(config): 'segment_categories' (\(settings.segmentCategories)) must not exceed 'categories' (\(settings.categories))")
            }
        }
        return { EcommerceSimulator(configuration: settings) }
    }

    static func educationConfiguration(_ config: String?) throws -> EducationConfiguration {
        var settings = EducationConfiguration()
        if let config { try ConfigurationFile.load(config, into: &settings) }
        return settings
    }
}
