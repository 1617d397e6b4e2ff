import DRLAgents
import DRLData
import DRLEvaluation
import DRLRanking
import DRLSimulation
import DRLTensor
import Testing

@Suite struct ColdStartTransferTests {

    /// Users of segment s click the items of block s: the groups found in their ALS factors, seen
    /// through the segment alone, give a new user of segment s a history of block-s items.
    @Test func aNewUsersHistoryComesFromTheirSegmentsGroups() throws {
        let users = 160, items = 60, blocks = 4
        var rng = RandomGenerator(seed: 9)
        var entries: [(user: Int, item: Int32, count: Float)] = []
        var demographics: [Float] = []
        for u in 0..<users {
            let block = u % blocks
            for _ in 0..<5 { entries.append((u, Int32(rng.nextIndex(below: items / blocks) * blocks + block), 1)) }
            demographics += (0..<blocks).map { $0 == block ? 1 : 0 }
        }
        let matrix = InteractionMatrix(users: users, items: items, entries: entries)
        var configuration = ImplicitALS.Configuration()
        configuration.factors = 6
        let als = ImplicitALS(users: users, items: items, configuration: configuration, seed: 1)
        try als.fit(matrix)
        let profiles = UserGroupProfiles(als: als, demographics: Tensor(shape: Shape(users, blocks), scalars: demographics),
                                         groups: 4, profileLength: 5, seed: 2)
        for block in 0..<blocks {
            let features = (0..<blocks).map { Float($0 == block ? 1 : 0) }
            let probabilities = profiles.groupProbabilities(for: features)
            #expect(abs(probabilities.reduce(0, +) - 1) < 1e-5)
            let history = profiles.initialHistory(for: features)
            #expect(history.count == 5)
            #expect(history.allSatisfy { Int($0) % blocks == block })
        }
    }

    /// Largest remainders: shares 0.5, 0.3, 0.2 of 5 slots are 3, 1, 1 (2.5 and 1.5 tie on their
    /// remainder, and the lower index takes the slot); any shares fill exactly the slots, each
    /// within one of its quota.
    @Test func slotsFollowTheSharesByLargestRemainders() {
        #expect(UserGroupProfiles.slots([0.5, 0.3, 0.2], total: 5) == [3, 1, 1])
        #expect(UserGroupProfiles.slots([0.1, 0.45, 0.45], total: 4) == [0, 2, 2])
        #expect(UserGroupProfiles.slots([0.05, 0.9, 0.05], total: 5) == [0, 5, 0])
        var rng = RandomGenerator(seed: 8)
        for _ in 0..<100 {
            let raw = (0..<7).map { _ in rng.uniform() }, sum = raw.reduce(0, +)
            let shares = raw.map { $0 / sum }, total = 1 + rng.nextIndex(below: 12)
            let slots = UserGroupProfiles.slots(shares, total: total)
            #expect(slots.reduce(0, +) == total)
            for (share, slot) in zip(shares, slots) { #expect(abs(Float(slot) - share * Float(total)) < 1) }
        }
    }

    /// The history always has exactly `profileLength` items.
    @Test func theHistoryHasTheProfileLengthForAnyDemographics() throws {
        let (users, items) = (40, 30)
        let entries = (0..<users).map { (user: $0, item: Int32($0 % items), count: Float(1)) }
        let als = ImplicitALS(users: users, items: items, seed: 3)
        try als.fit(InteractionMatrix(users: users, items: items, entries: entries))
        var rng = RandomGenerator(seed: 4)
        let demographics = Tensor.normal(Shape(users, 3), using: &rng)
        let profiles = UserGroupProfiles(als: als, demographics: demographics, groups: 7, profileLength: 4, seed: 5)
        for _ in 0..<20 {
            let features = (0..<3).map { _ in rng.normal() }
            #expect(profiles.initialHistory(for: features).count == 4)
        }
    }

    /// The wrapped policy sees the seeded history (in the platform's recent clicks and in the
    /// observation's click-history part) for a cold user only; a warm user is served unchanged.
    @Test func onlyColdUsersAreSeeded() throws {
        var configuration = EcommerceConfiguration()
        configuration.items = 1_000
        configuration.categories = 20
        configuration.coldStartShare = 0.5
        let simulator = EcommerceSimulator(configuration: configuration)
        let myopic = MyopicGreedyPolicy(catalogue: simulator.catalogue)
        let (als, log) = try ALSPolicy.trained(on: simulator, logging: myopic, users: 300, seed: 1_000)
        let profiles = UserGroupProfiles(als: als.model, demographics: log.demographicMatrix, groups: 8, seed: 1)
        let recorder = RecordingPolicy(base: MyopicGreedyPolicy(catalogue: simulator.catalogue))
        let transfer = ColdStartTransferPolicy(base: recorder, profiles: profiles)
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var slate = [Int32](repeating: 0, count: configuration.slateSize), direct = slate
        var cold = 0, warm = 0
        for seed in UInt64(0)..<20 {
            simulator.reset(seed: seed, observation: &observation)
            transfer.recommend(simulator, observation: observation, into: &slate)
            let range = simulator.clickHistoryObservationRange!
            if simulator.recentClickedItems.isEmpty {
                cold += 1
                let expected = profiles.initialHistory(for: simulator.demographics)
                #expect(recorder.seenHistory == expected)
                let mean = (0..<configuration.dimension).map { j in expected.reduce(Float(0)) { $0 + simulator.catalogue.embeddings[Int($1), j] } / Float(expected.count) }
                for j in 0..<configuration.dimension { #expect(abs(recorder.seenObservation[flat: range.lowerBound + j] - mean[j]) < 1e-5) }
            } else {
                warm += 1
                #expect(recorder.seenHistory == simulator.recentClickedItems)
                #expect(recorder.seenObservation == observation)
                MyopicGreedyPolicy(catalogue: simulator.catalogue).recommend(simulator, observation: observation, into: &direct)
                #expect(slate == direct)
            }
        }
        #expect(cold > 0 && warm > 0)
    }

    /// On the e-commerce simulator, whose segments predict tastes, starting cold users from their
    /// group profiles raises the myopic recommender's first-day purchases per slate for them.
    @Test func transferRaisesColdUsersEarlyConversion() throws {
        var configuration = EcommerceConfiguration()
        configuration.items = 2_000
        let existing = EcommerceSimulator(configuration: configuration)
        let myopic = MyopicGreedyPolicy(catalogue: existing.catalogue)
        let (als, log) = try ALSPolicy.trained(on: existing, logging: myopic, users: 1_000, seed: 1_000_000)
        // The same platform (catalogue and segments), with only new users arriving.
        configuration.coldStartShare = 1
        let simulator = EcommerceSimulator(configuration: configuration)
        let profiles = UserGroupProfiles(als: als.model, demographics: log.demographicMatrix, groups: 32, seed: 1)
        let without = simulatePopulation(myopic, on: simulator, users: 300, seed: 0)
        let with = simulatePopulation(ColdStartTransferPolicy(base: MyopicGreedyPolicy(catalogue: simulator.catalogue), profiles: profiles),
                                      on: simulator, users: 300, seed: 0)
        let rows = compare(control: without, treatment: with, metrics: [EcommerceMetric.coldStartEarlyConversion.rawValue], resamples: 500)
        #expect(rows[0].ciLow > 0)
    }
}

/// Records what a policy was shown, then lets `base` recommend.
private final class RecordingPolicy: SlatePolicy {
    let base: SlatePolicy
    var name: String { base.name }
    var seenHistory: [Int32] = []
    var seenObservation = Tensor(zeros: Shape(0))

    init(base: SlatePolicy) { self.base = base }

    func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        seenHistory = environment.recentClickedItems
        seenObservation = observation.clone()
        base.recommend(environment, observation: observation, into: &slate)
    }
}
