import DRLNN
import DRLSimulation
import Testing

@Suite struct ConfigurationKeyTests {
    /// File keys set the configuration fields they name and refuse values of the wrong kind or
    /// outside their range, saying which range.
    @Test func keysSetTheirFieldsAndRefuseBadValues() throws {
        var shop = EcommerceConfiguration()
        let keys = EcommerceConfiguration.fileKeys
        #expect(try #require(keys["items"]).apply(.number(2_000), to: &shop) == nil && shop.items == 2_000)
        #expect(try #require(keys["diversity_penalty"]).apply(.number(0.5), to: &shop) == nil && shop.reward.diversity.weight == 0.5)
        #expect(try #require(keys["platform_weight"]).apply(.number(2), to: &shop) == nil && shop.reward.objectives.platform == 2)
        #expect(try #require(keys["slate_size"]).apply(.number(2.5), to: &shop)?.contains("integer in 1...100") == true)
        #expect(try #require(keys["cold_start_share"]).apply(.number(1.5), to: &shop)?.contains("0.0...1.0") == true)
        #expect(shop.slateSize == 10 && shop.coldStartShare == 0.2)
        var course = EducationConfiguration()
        #expect(try #require(EducationConfiguration.fileKeys["mastery_reward"]).apply(.number(10), to: &course) == nil && course.masteryReward == 10)
        var feed = VideoFeedConfiguration()
        #expect(try #require(VideoFeedConfiguration.fileKeys["satisfaction_bait"]).apply(.number(1.25), to: &feed) == nil && feed.satisfactionBait == 1.25)
        // Every key is a distinct snake_case name.
        for name in Array(keys.keys) + Array(VideoFeedConfiguration.fileKeys.keys) + Array(EducationConfiguration.fileKeys.keys) {
            #expect(name == name.lowercased() && !name.contains(" "))
        }
    }
}
