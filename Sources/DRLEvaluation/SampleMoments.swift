/// The mean of `values` and their sample variance (divided by n − 1; 0 for fewer than two
/// values; the mean of no values is NaN).
public func sampleMoments(_ values: [Double]) -> (mean: Double, variance: Double) {
    let n = Double(values.count), mean = values.reduce(0, +) / n
    return (mean, values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0)
}
