/// Where a recipe reports what it is doing (one line at a time); the CLI prints it on standard error.
public typealias ProgressReport = (String) -> Void

/// Seconds on a monotonic clock, for the durations the recipes report.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}
