import DRLTensor

/// Per-user results of one policy on a simulated population, from which any of its metrics can be
/// computed over a subset of the users (as a bootstrap draws them).
public protocol PopulationReport {
    var policy: String { get }
    var userCount: Int { get }
    /// The metrics the report knows, in display order.
    static var metricNames: [String] { get }
    func value(of metric: String, over subset: [Int]) -> Float
}

extension PopulationReport {
    /// A metric of the whole population.
    public func value(of metric: String) -> Float { value(of: metric, over: Array(0..<userCount)) }
}

/// Compares two reports from the same population, metric by metric, with paired bootstrap intervals.
public func compare<Report: PopulationReport>(control: Report, treatment: Report, metrics: [String] = Report.metricNames,
                                              resamples: Int = 1_000, seed: UInt64 = 0) -> [MetricComparison] {
    require(control.userCount == treatment.userCount,
            "compare: the arms ran \(control.userCount) and \(treatment.userCount) users; a paired comparison needs the same users")
    for metric in metrics where !Report.metricNames.contains(metric) {
        requirementFailure("compare: unknown metric '\(metric)'; the report has \(Report.metricNames)")
    }
    return pairedBootstrap(users: control.userCount, metrics: metrics, resamples: resamples, seed: seed) { m, arm, subset in
        (arm == 0 ? control : treatment).value(of: metrics[m], over: subset)
    }
}
