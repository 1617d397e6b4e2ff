import DRLData
import DRLRanking
import DRLTensor
import Foundation
import Testing
@testable import DRLServing

@Suite struct ExplorationTests {
    /// A registry serving a `FixedScoresModel` over 30 items whose scores rise with the index.
    /// With `directory`, the registry there (a restart when it already serves).
    func fixedService(_ exploration: SlateExploration, impressions: Bool = false, readsImpressions: Bool = false,
                      directory: String? = nil, durability: AppendOnlyLog.Durability = .synced, seeded: Bool = true) throws -> RecommendationService {
        let items = (0..<30).map { "i\($0)" }
        let registry = try ModelRegistry(directory: directory ?? Fixtures.scratchDirectory("explore"))
        let path = registry.directory + "/fixed.safetensors"
        if try registry.state().production == nil {
            try FixedScoresModel.save(items: items, contextColumns: [], scores: items.indices.map { Float($0) / 4 }, readsImpressions: readsImpressions, to: path)
            try registry.register(checkpoint: path, scenario: "fixed", dataHash: "d")
            try registry.promote("v1")
        }
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .seconds(5)
        configuration.modelKinds = ServableModelKinds([FixedScoresModel.self])
        configuration.exploration = exploration
        configuration.explorationSeed = seeded ? 7 : nil
        configuration.logDurability = durability
        if impressions { configuration.impressionLogPath = registry.directory + "/impressions.csv" }
        return try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv", configuration: configuration)
    }

    func request() -> RecommendRequest {
        var request = RecommendRequest(user: "u", k: 4)
        // Item 29 (the best) is seen and left out; items 28, 27, 26, 25 make the greedy list.
        request.history = [.init(item: "i29", event: .click, timestamp: 0)]
        return request
    }

    /// For one user state served many times, each (position, item)'s share of the lists matches
    /// the probability logged with it, within four standard errors of a share (plus 0.002 for
    /// shares near 0 or 1); every position's logged probabilities of what it showed add up to at
    /// most 1, and the greedy list keeps its order unless shuffled.
    @Test(arguments: [SlateExploration(epsilon: 0.3), SlateExploration(epsilon: 0.2, explorer: .softmax(temperature: 1)),
                      SlateExploration(epsilon: 0.5, explorer: .popularity), SlateExploration(epsilon: 0.3, shuffle: 0.4),
                      SlateExploration(epsilon: 0, shuffle: 0.5)])
    func loggedPropensitiesAreTheServedFrequencies(exploration: SlateExploration) async throws {
        let service = try fixedService(exploration)
        defer { service.feedbackLog.shutDown() }
        let requests = 20_000
        var counts: [String: Int] = [:]
        var logged: [String: Double] = [:]
        for _ in 0..<requests {
            let answer = try await service.recommend(request())
            #expect(answer.items.count == 4 && Set(answer.items.map(\.id)).count == 4 && !answer.items.contains { $0.id == "i29" })
            for (position, item) in answer.items.enumerated() {
                let key = "\(position) \(item.id)"
                counts[key, default: 0] += 1
                if let earlier = logged[key] { #expect(earlier == item.propensity) } else { logged[key] = item.propensity }
            }
        }
        for (key, p) in logged {
            let share = Double(counts[key]!) / Double(requests)
            let tolerance = 4 * (p * (1 - p) / Double(requests)).squareRoot() + 0.002
            #expect(abs(share - p) <= tolerance, "\(key): served in \(share) of the lists, logged \(p)")
        }
        for position in 0..<4 {
            let total = logged.filter { $0.key.hasPrefix("\(position) ") }.values.reduce(0, +)
            #expect(total <= 1 + 1e-9)
            #expect(logged["\(position) i\(28 - position)"]! > (1 - Double(exploration.epsilon)) * (1 - Double(exploration.shuffle)) - 1e-9)
        }
    }

    /// With noise on the model's action (its fixed scores, 0.25 apart, perturbed with σ = 0.4),
    /// each list's propensities are given its noise, so one (position, item) is logged with many
    /// probabilities. They are true if inverse-propensity weighting counts every list once: for
    /// each (position, item), the sum of 1 / propensity over the lists that showed it there, over
    /// the number of lists, is 1 (within four standard errors, estimated from the same sums, plus
    /// 0.01), whatever the noise did. The noise really moves the greedy list (the top position
    /// shows several items often). A seeded service draws the same list ids again; restarted on
    /// its log, other ones.
    @Test func underActionNoiseInversePropensitiesCountEveryListOnce() async throws {
        let exploration = SlateExploration(epsilon: 0.3, shuffle: 0.2, actionNoise: 0.4)
        let service = try fixedService(exploration, impressions: true)
        let requests = 10_000
        var counts: [String: Int] = [:], inverse: [String: Double] = [:], inverseSquared: [String: Double] = [:]
        var ids: [String] = []
        for _ in 0..<requests {
            let answer = try await service.recommend(request())
            ids.append(try #require(answer.impression))
            for (position, item) in answer.items.enumerated() {
                let key = "\(position) \(item.id)"
                counts[key, default: 0] += 1
                inverse[key, default: 0] += 1 / item.propensity
                inverseSquared[key, default: 0] += 1 / (item.propensity * item.propensity)
            }
        }
        service.feedbackLog.shutDown()
        service.impressionLog?.shutDown()
        #expect(Set(ids).count == requests)
        let n = Double(requests)
        for (key, count) in counts where count >= 100 {
            let mean = inverse[key]! / n, variance = max(inverseSquared[key]! / n - mean * mean, 0)
            #expect(abs(mean - 1) <= 4 * (variance / n).squareRoot() + 0.01, "\(key): shown in \(count) lists, Σ 1/propensity over the lists \(mean)")
        }
        let top = counts.filter { $0.key.hasPrefix("0 ") && $0.value > requests / 20 }
        #expect(top.count >= 3, "the noise hardly moves the greedy list: \(counts.filter { $0.key.hasPrefix("0 ") })")

        let again = try fixedService(exploration, impressions: true)
        var first: [String] = []
        for _ in 0..<3 { first.append(try #require(try await again.recommend(request()).impression)) }
        again.feedbackLog.shutDown()
        again.impressionLog?.shutDown()
        #expect(first == Array(ids.prefix(3)))
        let restarted = try fixedService(exploration, impressions: true, directory: service.registry.directory)
        defer { restarted.feedbackLog.shutDown(); restarted.impressionLog?.shutDown() }
        let later = try #require(try await restarted.recommend(request()).impression)
        #expect(!ids.contains(later))
    }

    /// Without exploration the list is the greedy one, each item at its position with probability 1.
    @Test func greedyServingLogsCertainty() async throws {
        let service = try fixedService(.greedy)
        defer { service.feedbackLog.shutDown() }
        let answer = try await service.recommend(request())
        #expect(answer.items.map(\.id) == ["i28", "i27", "i26", "i25"])
        #expect(answer.items.allSatisfy { $0.propensity == 1 })
    }

    /// The marginal of a pool item, checked against a direct sum over what happens above it: with
    /// two positions and a pool of one item e, P(e at 2) = (1 − ε)·ε (position 1 not explored) —
    /// the formula ε q (1 − ε q)^(j−1) with q = 1.
    @Test func aSingleItemPoolFollowsTheFormula() {
        let exploration = SlateExploration(epsilon: 0.25)
        var generator = RandomGenerator(seed: 3)
        var atSecond = 0
        let trials = 40_000
        var logged = 0.0
        for _ in 0..<trials {
            let placements = exploration.place(greedy: [0, 1], pool: [2], scores: [0, 0, 0], popularity: [0, 0, 0], using: &generator)
            if placements[1].item == 2 { atSecond += 1; logged = placements[1].propensity }
            if placements[0].item == 2 { #expect(placements[0].propensity == 0.25) } else { #expect(placements[0].propensity == 0.75) }
        }
        #expect(abs(logged - 0.75 * 0.25) < 1e-12)
        #expect(abs(Double(atSecond) / Double(trials) - 0.1875) < 4 * (0.1875 * 0.8125 / Double(trials)).squareRoot())
    }

    /// The probability of an item at a position, computed without drawing (what an off-policy
    /// estimate needs of a target policy), is exactly the propensity `place` logs when it puts the
    /// item there, for every explorer and with shuffled orders; each position's probabilities
    /// over the greedy items and the pool sum to 1, and an item that is neither has none.
    @Test(arguments: [SlateExploration(epsilon: 0.3), SlateExploration(epsilon: 0.2, explorer: .softmax(temperature: 0.5)),
                      SlateExploration(epsilon: 0.6, explorer: .popularity), SlateExploration.greedy,
                      SlateExploration(epsilon: 0.3, explorer: .softmax(temperature: 1), shuffle: 0.3), SlateExploration(epsilon: 0, shuffle: 1)])
    func probabilitiesWithoutDrawingAreThePlacedPropensities(exploration: SlateExploration) {
        var generator = RandomGenerator(seed: 11)
        let items = 40
        let scores = (0..<items).map { _ in generator.uniform(-2, 2) }, popularity = (0..<items).map { _ in Float(generator.nextIndex(below: 50)) }
        let greedy: [Int32] = [5, 9, 2, 31], pool = (0..<Int32(items)).filter { ![5, 9, 2, 31, 7].contains($0) }
        let marginals = exploration.marginals(greedy: greedy, pool: pool, scores: scores, popularity: popularity)
        func probability(_ item: Int32, _ position: Int) -> Double { marginals.probability(of: item, at: position) }
        var placed = 0
        for _ in 0..<2_000 {
            for (j, placement) in exploration.place(greedy: greedy, pool: pool, scores: scores, popularity: popularity, using: &generator).enumerated() {
                #expect(probability(placement.item, j + 1) == placement.propensity)
                placed += 1
            }
        }
        #expect(placed == 8_000)
        for position in 1...greedy.count {
            let total = (greedy + pool).map { probability($0, position) }.reduce(0, +)
            #expect(abs(total - 1) < 1e-12)
            #expect(probability(7, position) == 0)  // neither greedy nor in the pool
            // Another position's greedy item: only by a shuffle of the order, then as often as any greedy item.
            let other = probability(greedy[(position % greedy.count)], position)
            #expect(exploration.shuffle == 0 ? other == 0 : abs(other - marginals.stayProbabilities[position - 1] * Double(exploration.shuffle) / 4) < 1e-15)
        }
    }

    /// A pool given as a set gives the lists a pool given as an array gives, draw for draw and to
    /// the last bit of every propensity, for the explorers that read no scores; the uniform
    /// explorer's per-size masses come from a cache on the second list of a size.
    @Test(arguments: [SlateExploration(epsilon: 0.3), SlateExploration(epsilon: 0.6, explorer: .popularity),
                      SlateExploration(epsilon: 0.2, shuffle: 0.4, actionNoise: 0.1), SlateExploration(epsilon: 0.9), SlateExploration.greedy])
    func aPoolAsASetPlacesAsAnArray(exploration: SlateExploration) {
        var sizes = RandomGenerator(seed: 5)
        let items = 300
        let popularity = (0..<items).map { _ in Float(sizes.nextIndex(below: 50)) }
        for trial in 0..<400 {
            // Pools of a few sizes, so that sizes repeat.
            let greedy: [Int32] = [3, 17, 250, 8, 99].prefix(1 + trial % 5).map { $0 }
            var set = ItemSet(capacity: items)
            for item in 0..<Int32(items) where !greedy.contains(item) && sizes.nextIndex(below: 10) < 3 + trial % 3 { set.insert(item) }
            var a = RandomGenerator(seed: UInt64(trial)), b = a
            let fromArray = exploration.place(greedy: greedy, pool: set.elements, scores: [], popularity: popularity, using: &a)
            let fromSet = exploration.place(greedy: greedy, pool: set, popularity: popularity, using: &b)
            #expect(fromArray == fromSet)
            #expect(a.next() == b.next())  // the same draws consumed
        }
    }

    /// An impression's rows, formatted once per list, are the logged-interactions format's rows
    /// to the byte, with ids that need quoting, propensities of every size (NaN writes none), with
    /// and without context.
    @Test func anImpressionsRowsAreTheFormatsRows() {
        var generator = RandomGenerator(seed: 2)
        let ids = ["u1", "a,b", "say \"hi\"", "é", "line\rbreak", "-"]
        for trial in 0..<200 {
            let context = (0..<(trial % 3 == 0 ? 0 : 1 + trial % 5)).map { _ in generator.uniform(-100, 100) }
            let items = (0..<(1 + trial % 7)).map { j -> (id: String, propensity: Double) in
                (ids[(trial + j) % ids.count] + "\(j)", j == 3 ? .nan : Double(generator.uniform(0, 1)) * pow(10, Double(-(trial % 12))))
            }
            let impression = Impression(id: ids[trial % ids.count] + "-list", user: ids[(trial + 1) % ids.count], timestamp: Int64(trial) * 1_000_003 - 7,
                                        version: ids[(trial + 2) % ids.count], arm: trial % 2 == 0 ? .control : .candidate, context: context, items: items)
            let expected = impression.items.enumerated().map { position, item in
                LoggedInteractions.csvRow(user: impression.user, item: item.id, timestamp: impression.timestamp, event: .impression, value: 1,
                                          propensity: Float(item.propensity),
                                          served: LoggedInteractions.Served(impression: impression.id, position: position + 1, version: impression.version,
                                                                            arm: impression.arm.rawValue),
                                          servedColumns: true, context: context) + "\n"
            }.joined()
            #expect(ImpressionLog.lines(impression) == Array(expected.utf8))
        }
    }

    /// An item set against `Set`: membership, count, the element of each rank, the elements in
    /// increasing order, and the set built a word at a time from values.
    @Test func anItemSetIsASetOfItems() {
        var generator = RandomGenerator(seed: 9)
        for capacity in [0, 1, 63, 64, 65, 200, 1_000] {
            var set = ItemSet(capacity: capacity), reference = Set<Int32>()
            for _ in 0..<(3 * capacity) {
                guard capacity > 0 else { break }
                let item = Int32(generator.nextIndex(below: capacity))
                if generator.nextIndex(below: 3) == 0 { set.remove(item); reference.remove(item) } else { set.insert(item); reference.insert(item) }
            }
            let sorted = reference.sorted()
            #expect(set.count == reference.count && set.elements == sorted)
            for (rank, item) in sorted.enumerated() { #expect(set.element(rank: rank) == item) }
            for item in -1...Int32(capacity) { #expect(set.contains(item) == reference.contains(item)) }
            let values = (0..<capacity).map { _ in generator.uniform(-1, 1) }
            let built = values.withUnsafeBufferPointer { ItemSet(capacity: capacity, where: { $0 > 0 }, values: $0) }
            #expect(built.elements == values.indices.filter { values[$0] > 0 }.map(Int32.init) && built.count == values.filter { $0 > 0 }.count)
            // Inserted at once (repeats and items already in it included), as one at a time.
            let more = (0..<capacity).map { _ in Int32(generator.nextIndex(below: capacity)) }
            var bulk = set, single = set
            bulk.insert(contentsOf: more[...])
            for item in more { single.insert(item) }
            #expect(bulk == single && bulk.count == reference.union(more).count)
        }
    }

    /// Every served list is in the impression log, in the logged-interactions format: one row per
    /// position with the item, the propensity the answer gave, the list's id, version and arm;
    /// the same whether the logs acknowledge once on disk or once written (then the rows are in
    /// the file before any flush: the interval here is an hour).
    @Test(arguments: [AppendOnlyLog.Durability.synced, .written(flushInterval: .seconds(3600))])
    func servedListsAreLoggedWithTheirPropensities(durability: AppendOnlyLog.Durability) async throws {
        let service = try fixedService(SlateExploration(epsilon: 0.4), impressions: true, durability: durability)
        var answers: [Recommendation] = []
        for _ in 0..<5 { answers.append(try await service.recommend(request())) }
        let log = try LoggedInteractions.read(csv: service.impressionLog!.path)
        service.impressionLog!.shutDown()
        service.feedbackLog.shutDown()
        #expect(log.count == 20 && log.events.allSatisfy { $0 == .impression })
        for (n, answer) in answers.enumerated() {
            for (position, item) in answer.items.enumerated() {
                let row = 4 * n + position
                #expect(log.userIds[Int(log.users[row])] == "u" && log.itemIds[Int(log.items[row])] == item.id)
                #expect(abs(Double(log.propensities[row]) - item.propensity) <= 1e-7 * item.propensity)  // read back as Float
                #expect(log.served(row) == LoggedInteractions.Served(impression: answer.impression!, position: position + 1, version: "v1", arm: "control"))
            }
        }
        #expect(Set(answers.map(\.impression)).count == 5)
    }

    /// Without a seed every list gets a fresh random (version 4, RFC 4122 variant) UUID.
    @Test func unseededListsGetRandomVersion4Ids() async throws {
        let service = try fixedService(SlateExploration(epsilon: 0.4), impressions: true, seeded: false)
        defer { service.impressionLog!.shutDown(); service.feedbackLog.shutDown() }
        var ids: [String] = []
        for _ in 0..<50 { ids.append(try #require(try await service.recommend(request()).impression)) }
        #expect(Set(ids).count == 50)
        for id in ids {
            let uuid = try #require(UUID(uuidString: id)).uuid
            #expect(uuid.6 >> 4 == 4 && uuid.8 >> 6 == 0b10, "\(id)")
        }
    }

    /// Feedback that names its list is checked against what was served and to whom, and logged
    /// with the list's id, the item's position, the version and the arm.
    @Test func feedbackNamesTheListItAnswers() async throws {
        let service = try fixedService(SlateExploration(epsilon: 0.4), impressions: true)
        let answer = try await service.recommend(request())
        let id = try #require(answer.impression)
        let second = answer.items[1].id
        let served = try service.servedList(impression: id, position: 2, item: second, user: "u")
        #expect(served == LoggedInteractions.Served(impression: id, position: 2, version: "v1", arm: "control"))
        #expect(throws: RequestError.unknownImpression("nonesuch")) { try service.servedList(impression: "nonesuch", position: 1, item: second, user: "u") }
        #expect(throws: RequestError.self) { try service.servedList(impression: id, position: 5, item: second, user: "u") }
        #expect(throws: RequestError.invalidField("impression_id", reason: "names a list served to another user")) {
            try service.servedList(impression: id, position: 2, item: second, user: "mallory")
        }
        #expect { try service.servedList(impression: id, position: 1, item: second, user: "u") } throws: {
            "\($0)".contains("impression '\(id)' showed '\(answer.items[0].id)' at position 1")
        }
        try await service.feedback(FeedbackEvent(user: "u", item: second, timestamp: 5, event: .click, served: served))
        service.feedbackLog.shutDown()
        service.impressionLog!.shutDown()
        let log = try LoggedInteractions.read(csv: service.feedbackLog.path)
        #expect(log.count == 1 && log.served(0) == served && log.events == [.click])
    }

    /// A request's own time stamps its list (the service's clock otherwise), and feedback as a
    /// client states it (`FeedbackRequest`) is resolved to the list and position it names, stamped
    /// with its time, or refused when it names a list the user was not served.
    @Test func theClientsTimeStampsItsListsAndFeedback() async throws {
        let service = try fixedService(SlateExploration(epsilon: 0.4), impressions: true)
        var timed = request()
        timed.timestamp = 1_234_567
        let answer = try await service.recommend(timed)
        let untimed = try await service.recommend(request())
        let id = try #require(answer.impression)
        try await service.feedback(FeedbackRequest(user: "u", item: answer.items[2].id, event: .click, timestamp: 1_234_570, impression: (id, 3)))
        await #expect(throws: RequestError.invalidField("impression_id", reason: "names a list served to another user")) {
            try await service.feedback(FeedbackRequest(user: "mallory", item: answer.items[2].id, event: .click, impression: (id, 3)))
        }
        service.feedbackLog.shutDown()
        service.impressionLog!.shutDown()
        let shown = try LoggedInteractions.read(csv: service.impressionLog!.path)
        #expect(shown.timestamps.prefix(4).allSatisfy { $0 == 1_234_567 })
        let now = Int64(Date().timeIntervalSince1970)
        #expect(shown.timestamps.suffix(4).allSatisfy { abs($0 - now) < 600 } && untimed.impression != nil)
        let feedback = try LoggedInteractions.read(csv: service.feedbackLog.path)
        #expect(feedback.count == 1 && feedback.timestamps == [1_234_570]
                && feedback.served(0) == LoggedInteractions.Served(impression: id, position: 3, version: "v1", arm: "control"))
    }

    /// A service started again with the same exploration seed on its impression log draws other
    /// lists than its first start did for the same requests (it would repeat them otherwise, and
    /// the explored positions of the two would not be independent), with other list ids.
    @Test func aRestartWithTheSameSeedDrawsAfresh() async throws {
        let directory = Fixtures.scratchDirectory("explore-restart")
        var lists: [[[String]]] = [], ids: [Set<String>] = []
        for _ in 0..<2 {
            let service = try fixedService(SlateExploration(epsilon: 0.5), impressions: true, directory: directory)
            var answers: [Recommendation] = []
            for _ in 0..<8 { answers.append(try await service.recommend(request())) }
            service.impressionLog!.shutDown()
            service.feedbackLog.shutDown()
            lists.append(answers.map { $0.items.map(\.id) })
            ids.append(Set(answers.compactMap(\.impression)))
        }
        #expect(lists[0] != lists[1] && ids[0].isDisjoint(with: ids[1]))
        // A fresh log keeps the seed's first stream: a second fresh start repeats the first one's lists.
        let fresh = try fixedService(SlateExploration(epsilon: 0.5), impressions: true)
        var again: [[String]] = []
        for _ in 0..<8 { again.append(try await fresh.recommend(request()).items.map(\.id)) }
        fresh.impressionLog!.shutDown()
        fresh.feedbackLog.shutDown()
        #expect(again == lists[0])
    }

    /// A restarted service knows what it served before: feedback naming a list served before the
    /// restart is accepted, and a model that reads the served lists sees the user's history as it
    /// was, lists and feedback in the order they happened, though they share one second.
    @Test func aRestartedServiceReplaysItsServedLists() async throws {
        let directory = Fixtures.scratchDirectory("explore-restart")
        var service = try fixedService(SlateExploration(epsilon: 0.3), impressions: true, readsImpressions: true, directory: directory)
        var answers: [Recommendation] = []
        for round in 0..<3 {
            answers.append(try await service.recommend(RecommendRequest(user: "w", k: 4)))
            // Within the same second as the list, as a quick client's is: it names the list it answers.
            let item = answers[round].items[1].id
            let served = try service.servedList(impression: answers[round].impression!, position: 2, item: item, user: "w")
            try await service.feedback(FeedbackEvent(user: "w", item: item, timestamp: Int64(Date().timeIntervalSince1970), event: .click, served: served))
        }
        let before = try #require(service.histories.entry(for: "w"))
        #expect(before.events.count == 15)  // three lists of four, each followed by its click
        service.feedbackLog.shutDown()
        service.impressionLog!.shutDown()
        service = try fixedService(SlateExploration(epsilon: 0.3), impressions: true, readsImpressions: true, directory: directory)
        defer { service.feedbackLog.shutDown(); service.impressionLog!.shutDown() }
        let after = try #require(service.histories.entry(for: "w"))
        #expect(after.events.map(\.item) == before.events.map(\.item) && after.events.map(\.event) == before.events.map(\.event))
        let first = answers[0]
        #expect(try service.servedList(impression: first.impression!, position: 3, item: first.items[2].id, user: "w").impression == first.impression)
    }
}
