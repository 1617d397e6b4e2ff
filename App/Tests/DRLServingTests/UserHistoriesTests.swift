import DRLData
import Testing
@testable import DRLServing

@Suite struct UserHistoriesTests {
    /// Past the cap, the least recently written users are forgotten a tenth of the cap at a time:
    /// the count never exceeds the cap, a user written to recently survives a stream of new ids,
    /// and a forgotten user comes back as a new one. The capacity of each history holds too.
    @Test func keepsAtMostTheCapAndForgetsTheLeastRecentlyActive() {
        let histories = UserHistories(capacity: 3, items: 5, maximumUsers: 20)
        histories.record(user: "regular", UserEvent(item: 1, event: .click, timestamp: 0), context: [])
        for n in 0..<200 {
            histories.recordImpressions(user: "new-\(n)", items: [0, 1], timestamp: Int64(n))
            if n % 5 == 0 { histories.record(user: "regular", UserEvent(item: Int32(n % 5), event: .click, timestamp: Int64(n)), context: []) }
            #expect(histories.userCount <= 20)
        }
        #expect(histories.entry(for: "regular")?.events.count == 3)
        #expect(histories.entry(for: "new-199") != nil && histories.entry(for: "new-0") == nil)
        histories.recordList(user: "new-0", items: [2], arm: .candidate)
        #expect(histories.entry(for: "new-0")?.events.isEmpty == true && histories.entry(for: "new-0")?.openList?.arm == .candidate)
        #expect(histories.popularity() == [40, 1, 0, 0, 0])  // impressions are not interactions
    }
}
