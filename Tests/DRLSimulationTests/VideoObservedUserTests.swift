import DRLData
import DRLSimulation
import DRLTensor
import Testing

@Suite struct VideoObservedUserTests {

    /// The feed's view rebuilt from the events the simulator emitted and the visit's context alone
    /// gives, at every screen of 24 viewers, the observation the simulator gave its agent, and the
    /// shown and watched videos a slate builder reads.
    @Test func aHistoryRebuildsTheSimulatorsObservation() {
        let configuration = VideoFeedConfiguration()
        let simulator = VideoFeedSimulator(configuration: configuration)
        let policy = DiversifiedGreedyPolicy(catalogue: simulator.catalogue)
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var rebuilt = observation
        var slate = [Int32](repeating: 0, count: configuration.slateSize)
        var compared = 0, views = 0, engagements = 0
        for viewer in 0..<24 {
            simulator.reset(seed: UInt64(viewer), observation: &observation)
            var history = simulator.lastEvents
            while true {
                let view = VideoObservedUser(configuration: configuration, history: history, context: simulator.observed.context)
                view.writeObservation(catalogue: simulator.catalogue, into: &rebuilt)
                #expect(rebuilt.scalars == observation.scalars, "viewer \(viewer), screen \(compared)")
                #expect(view.shownItems == simulator.shownItems && view.watched == simulator.recentClickedItems)
                compared += 1
                policy.recommend(simulator, observation: observation, into: &slate)
                let result = simulator.step(.slate(slate), observation: &observation)
                let events = simulator.lastEvents
                #expect(events.prefix(slate.count).map(\.item) == slate && events.prefix(slate.count).allSatisfy { $0.event == .impression })
                views += events.filter { $0.event == .view }.count
                engagements += events.filter { [.like, .share, .subscribe, .addToPlaylist, .fullPlay].contains($0.event) }.count
                history += events
                if result.terminated || result.truncated { break }
            }
        }
        #expect(compared > 250 && views > 35 && engagements > 4, "\(compared) screens, \(views) views, \(engagements) engagements")
    }
}
