import DRLNN
import DRLSimulation
import Foundation
import ScratchFiles
import Testing

/// The library's loader of simulator configuration files refuses every bad file with the file,
/// the key and the fault named, and leaves the configuration as it was; a good file sets what it
/// names and nothing else.
@Suite struct ConfigurationFileTests {
    func file(_ text: String) throws -> String {
        let path = Scratch.path("config.json")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func refusal<Configuration: FileConfigurable>(_ text: String, _ configuration: inout Configuration) throws -> ConfigurationFileError? {
        let path = try file(text)
        do {
            try ConfigurationFile.load(path, into: &configuration)
            return nil
        } catch {
            #expect(error.path == path)
            return error
        }
    }

    @Test func aGoodFileSetsWhatItNames() throws {
        var shop = EcommerceConfiguration()
        try ConfigurationFile.load(try file(#"{"items": 2000, "diversity_penalty": 0.5}"#), into: &shop)
        #expect(shop.items == 2_000 && shop.reward.diversity.weight == 0.5 && shop.slateSize == EcommerceConfiguration().slateSize)
    }

    @Test func badFilesAreRefusedWithTheKeyAndNothingChanges() throws {
        var shop = EcommerceConfiguration()
        let unknown = try #require(try refusal(#"{"items": 2000, "itmes": 3}"#, &shop))
        #expect(unknown.key == nil && unknown.reason.hasPrefix("unknown key 'itmes'"))
        let boolean = try #require(try refusal(#"{"days": true}"#, &shop))
        #expect(boolean.key == "days" && boolean.reason == "must be a number, got a boolean")
        let range = try #require(try refusal(#"{"items": 2000, "slate_size": 0}"#, &shop))
        #expect(range.key == "slate_size" && range.reason.contains("integer in 1...100"))
        let json = try #require(try refusal(#"{"items": 2000"#, &shop))
        #expect(json.reason.hasPrefix("not valid JSON"))
        let array = try #require(try refusal("[1, 2]", &shop))
        #expect(array.reason == "the file must hold one JSON object of settings, not an array")
        // A key given twice was read as its last value without a word.
        let twice = try #require(try refusal(#"{"items": 500, "items": 600}"#, &shop))
        #expect(twice.reason.contains("the field 'items' appears twice"), "\(twice)")
        let string = try #require(try refusal(#"{"items": "500"}"#, &shop))
        #expect(string.key == "items" && string.reason == "must be a number, got a string")
        #expect(try refusal("", &shop)?.reason.hasPrefix("not valid JSON") == true)
        // Each file above set items before failing; none of it was kept.
        #expect(shop.items == EcommerceConfiguration().items)
    }

    /// A folder or a missing path given as the file says so (a folder was "NSCocoaErrorDomain
    /// error 256").
    @Test func aFolderOrAMissingFileIsNamedAsSuch() {
        var shop = EcommerceConfiguration()
        let folder = Scratch.directory("settings")
        #expect { try ConfigurationFile.load(folder, into: &shop) } throws: { ($0 as? ConfigurationFileError)?.reason == "is a folder, not a settings file" }
        #expect { try ConfigurationFile.load(folder + "/none.json", into: &shop) } throws: { ($0 as? ConfigurationFileError)?.reason == "there is no such file" }
    }

    /// Settings that each key accepts but that contradict each other would trap in the simulator;
    /// the loader refuses them first.
    @Test func contradictingSettingsAreRefused() throws {
        var shop = EcommerceConfiguration()
        let categories = try #require(try refusal(#"{"items": 20, "categories": 50}"#, &shop))
        #expect(categories.description.hasSuffix("'categories' (50) must not exceed 'items' (20)"))
        let segments = try #require(try refusal(#"{"categories": 5, "segment_categories": 8}"#, &shop))
        #expect(segments.reason == "'segment_categories' (8) must not exceed 'categories' (5)")
        var feed = VideoFeedConfiguration()
        let slate = try #require(try refusal(#"{"items": 20, "categories": 4, "slate_size": 30}"#, &feed))
        #expect(slate.reason == "'slate_size' (30) must not exceed 'items' (20)")
        #expect(shop.items == EcommerceConfiguration().items && feed.items == VideoFeedConfiguration().items)
    }

    /// `text(of:)` writes every key, and reading it back gives the same settings to the last bit,
    /// whatever values were set (the settings a checkpoint records rebuild its simulator).
    @Test func theSettingsTextRebuildsTheSettingsExactly() throws {
        var shop = EcommerceConfiguration()
        shop.items = 1_234
        shop.cartFit = 0.1 + 0.2
        shop.choiceTemperature = 1 / 3
        shop.reward.diversity.weight = 0.7
        let text = ConfigurationFile.text(of: shop)
        var rebuilt = EcommerceConfiguration()
        try ConfigurationFile.load(text: text, origin: "settings", into: &rebuilt)
        #expect(ConfigurationFile.text(of: rebuilt) == text)
        #expect(rebuilt.items == 1_234 && rebuilt.cartFit == shop.cartFit && rebuilt.choiceTemperature == shop.choiceTemperature)
        #expect(text.components(separatedBy: ":").count - 1 == EcommerceConfiguration.fileKeys.count)
        var school = EducationConfiguration()
        try ConfigurationFile.load(text: ConfigurationFile.text(of: EducationConfiguration()), origin: "settings", into: &school)
        #expect(ConfigurationFile.text(of: school) == ConfigurationFile.text(of: EducationConfiguration()))
        #expect { try ConfigurationFile.load(text: #"{"items": 3}"#, origin: "ckpt (metadata)", into: &rebuilt) } throws: {
            "\($0)".hasPrefix("ckpt (metadata): key 'items' must be an integer in 20...")
        }
    }

    @Test func aMissingFileSaysSo() {
        var course = EducationConfiguration()
        #expect(throws: ConfigurationFileError.self) { try ConfigurationFile.load(Scratch.path("absent.json"), into: &course) }
    }
}
