import DRLAgents
import DRLEvaluation
import DRLTensor

/// The video-feed metrics of one policy over a simulated population of viewers: watch time per
/// viewer over the week, share rate (shares per view), 7-day retention (viewers still coming on
/// the last day), session length in watched minutes, the share of views that were clickbait,
/// sessions, and the return.
public struct VideoReport: PopulationReport, Sendable {
    public let policy: String
    public let viewers: [VideoEpisodeStatistics]
    public let returns: [Float]

    public var userCount: Int { viewers.count }

    public static let metricNames = ["watch_minutes_per_viewer", "share_rate", "seven_day_retention", "session_minutes",
                                     "clickbait_share", "sessions_per_viewer", "return_per_viewer"]

    public func value(of metric: String, over subset: [Int]) -> Float {
        func sum(_ key: (VideoEpisodeStatistics) -> Float) -> Float { subset.reduce(0) { $0 + key(viewers[$1]) } }
        let n = Float(max(subset.count, 1))
        switch metric {
        case "watch_minutes_per_viewer": return sum(\.watchMinutes) / n
        case "share_rate": return sum { Float($0.shares) } / max(sum { Float($0.views) }, 1)
        case "seven_day_retention": return sum { $0.activeOnLastDay ? 1 : 0 } / n
        case "session_minutes": return sum(\.watchMinutes) / max(sum { Float($0.sessions) }, 1)
        case "clickbait_share": return sum { Float($0.baitViews) } / max(sum { Float($0.views) }, 1)
        case "sessions_per_viewer": return sum { Float($0.sessions) } / n
        case "return_per_viewer": return subset.reduce(0) { $0 + returns[$1] } / n
        default: requirementFailure("VideoReport: unknown metric '\(metric)'")
        }
    }
}

/// Runs `policy` on `viewers` simulated viewers, viewer u seeded with `seed + u`. `progress` gets
/// the number done after each.
public func simulatePopulation(_ policy: SlatePolicy, on simulator: VideoFeedSimulator, viewers: Int, seed: UInt64,
                              progress: (_ done: Int) -> Void = { _ in }) -> VideoReport {
    require(viewers > 0, "simulatePopulation needs at least one viewer")
    var observation = Tensor(zeros: Shape(simulator.observationDimension))
    var slate = [Int32](repeating: 0, count: simulator.slateSize)
    var statistics: [VideoEpisodeStatistics] = [], returns: [Float] = []
    for u in 0..<viewers {
        simulator.reset(seed: seed &+ UInt64(u), observation: &observation)
        var total: Float = 0
        while true {
            policy.recommend(simulator, observation: observation, into: &slate)
            let result = simulator.step(.slate(slate), observation: &observation)
            total += result.reward
            if result.terminated || result.truncated { break }
        }
        statistics.append(simulator.statistics)
        returns.append(total)
        progress(u + 1)
    }
    return VideoReport(policy: policy.name, viewers: statistics, returns: returns)
}
