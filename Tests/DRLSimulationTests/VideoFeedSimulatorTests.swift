import DRLAgents
import DRLSimulation
import DRLTensor
import Testing

@Suite struct VideoFeedSimulatorTests {
    func run(_ simulator: VideoFeedSimulator, _ policy: SlatePolicy, seed: UInt64, check: (StepResult) -> Void = { _ in }) -> VideoEpisodeStatistics {
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var slate = [Int32](repeating: 0, count: simulator.slateSize)
        simulator.reset(seed: seed, observation: &observation)
        while true {
            policy.recommend(simulator, observation: observation, into: &slate)
            let result = simulator.step(.slate(slate), observation: &observation)
            check(result)
            for k in 0..<observation.count { #expect(abs(observation[flat: k]) <= 1.0001) }
            if result.terminated || result.truncated { return simulator.statistics }
        }
    }

    @Test func aSeedFixesTheWholeEpisode() {
        let a = run(VideoFeedSimulator(), RandomPolicy(seed: 2), seed: 5), b = run(VideoFeedSimulator(), RandomPolicy(seed: 2), seed: 5)
        let c = run(VideoFeedSimulator(), RandomPolicy(seed: 2), seed: 6)
        #expect(a == b && a != c)
    }

    /// The week always runs to its end; satisfaction stays in [0, 1]; the interest stays a unit
    /// vector; the session's minutes only run down within a session; counts are consistent.
    @Test func viewerStateStaysBoundedAndCountsAreConsistent() {
        let simulator = VideoFeedSimulator()
        for seed in UInt64(0)..<40 {
            var minutes = simulator.remainingSessionMinutes, sessions = 0
            let s = run(simulator, MyopicGreedyPolicy(catalogue: simulator.catalogue), seed: seed) { result in
                #expect(!result.terminated)
                #expect((0...1).contains(simulator.currentSatisfaction))
                #expect(abs(simulator.currentInterest.reduce(0) { $0 + $1 * $1 } - 1) < 1e-3)
                if !result.truncated {
                    if simulator.statistics.sessions == sessions { #expect(simulator.remainingSessionMinutes < minutes) }
                    (minutes, sessions) = (simulator.remainingSessionMinutes, simulator.statistics.sessions)
                }
            }
            #expect(s.views + s.skips == s.screens && s.fullPlays <= s.views && s.sessions <= simulator.configuration.days)
        }
        #expect(simulator.quality.allSatisfy { (0...1).contains($0) } && simulator.bait.allSatisfy { (0...1).contains($0) })
    }

    /// Clickbait sits in the head of the popularity distribution, so the best-seller feed is
    /// mostly bait, keeps fewer viewers to the end of the week than the diversified feed, and has
    /// them share less.
    @Test func clickbaitErodesRetention() {
        let simulator = VideoFeedSimulator()
        let popular = simulatePopulation(PopularityPolicy(catalogue: simulator.catalogue), on: simulator, viewers: 400, seed: 70)
        let diverse = simulatePopulation(DiversifiedGreedyPolicy(catalogue: simulator.catalogue), on: simulator, viewers: 400, seed: 70)
        #expect(popular.value(of: "clickbait_share") > diverse.value(of: "clickbait_share") + 0.2)
        #expect(popular.value(of: "seven_day_retention") < diverse.value(of: "seven_day_retention"))
        #expect(popular.value(of: "share_rate") < diverse.value(of: "share_rate"))
    }
}
