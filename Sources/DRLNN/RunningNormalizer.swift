import DRLTensor

/// Running normalisation of input features: (x − mean) / sqrt(variance + ε), clipped to ±`clip`,
/// with the mean and variance of every row seen in training mode (Chan et al.'s parallel update,
/// one batch at a time). In evaluation mode the statistics stay fixed. The statistics are frozen
/// parameters ("mean", "variance", "count"), so checkpoints carry them and optimizers leave them alone.
public final class RunningNormalizer: Module {
    public let features: Int
    public let epsilon: Float, clip: Float
    public let mean: Parameter, variance: Parameter, count: Parameter
    public var isTraining = true
    /// When false the statistics stay fixed in training mode too (a frozen module's normalizer).
    public var updatesStatistics = true
    private var output = Buffer()
    /// In data-parallel training, sums a buffer over the ranks in place: each batch's statistics
    /// are then the whole batch's, every rank's share of it (possibly empty) put together, so
    /// that the ranks' statistics stay identical. Nil: this process's batch is the batch.
    public var combine: ((UnsafeMutableBufferPointer<Double>) -> Void)?
    private var sums: [Double] = []

    public init(features: Int, epsilon: Float = 1e-4, clip: Float = 5) {
        require(features >= 0 && epsilon > 0 && clip > 0,
                "RunningNormalizer: \(features) features (≥ 0), epsilon \(epsilon) and clip \(clip) (> 0)")
        self.features = features
        self.epsilon = epsilon
        self.clip = clip
        mean = Parameter("mean", shape: Shape(features))
        variance = Parameter("variance", shape: Shape(features))
        count = Parameter("count", shape: Shape(1))
        var v = variance.value
        v.fill(with: 1)
        for p in [mean, variance, count] { p.isFrozen = true }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("mean", mean), ("variance", variance), ("count", count)] }

    /// Normalises the rows of `x` [rows, features] (updating the statistics first in training mode).
    public func forward(_ x: Tensor) -> Tensor {
        let (rows, width) = x.shape.matrix
        require(width == features, "RunningNormalizer(\(features)): input \(x.shape) has \(width) features")
        if isTraining && updatesStatistics {
            if let combine { update(with: x, combine) } else if rows > 0 { update(with: x) }
        }
        var y = output.view(x.shape)
        let m = mean.value, v = variance.value
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { out in
                for j in 0..<features {
                    let scale = 1 / (v[flat: j] + epsilon).squareRoot(), centre = m[flat: j]
                    for r in 0..<rows { out[r * width + j] = min(max((input[r * width + j] - centre) * scale, -clip), clip) }
                }
            }
        }
        return y
    }

    /// Merges the batch's mean and variance into the running ones.
    private func update(with x: Tensor) {
        let (rows, width) = x.shape.matrix
        var m = mean.value, v = variance.value, n = count.value
        let previous = n[flat: 0], batch = Float(rows), total = previous + batch
        x.withUnsafeBufferPointer { input in
            for j in 0..<width {
                var batchMean: Float = 0
                for r in 0..<rows { batchMean += input[r * width + j] }
                batchMean /= batch
                var batchVariance: Float = 0
                for r in 0..<rows { let d = input[r * width + j] - batchMean; batchVariance += d * d }
                batchVariance /= batch
                merge(feature: j, batchMean: batchMean, batchVariance: batchVariance, previous: previous, batch: batch, into: &m, &v)
            }
        }
        n[flat: 0] = total
    }

    /// Merges one feature's batch statistics (`batch` rows after `previous`) into the running mean
    /// `m` and variance `v`.
    private func merge(feature j: Int, batchMean: Float, batchVariance: Float, previous: Float, batch: Float,
                       into m: inout Tensor, _ v: inout Tensor) {
        let total = previous + batch
        let delta = batchMean - m[flat: j]
        // With no history yet the batch's statistics replace the initial (0, 1).
        let runningWeight = previous / total
        m[flat: j] += delta * batch / total
        v[flat: j] = runningWeight * v[flat: j] + (1 - runningWeight) * batchVariance + delta * delta * runningWeight * (1 - runningWeight)
    }

    /// The same update from the whole batch's count, sums and sums of squares (at double
    /// precision), added up over the ranks by `combine`.
    private func update(with x: Tensor, _ combine: (UnsafeMutableBufferPointer<Double>) -> Void) {
        let (rows, width) = x.shape.matrix
        if sums.count != 1 + 2 * width { sums = [Double](repeating: 0, count: 1 + 2 * width) }
        sums[0] = Double(rows)
        x.withUnsafeBufferPointer { input in
            for j in 0..<width {
                var sum = 0.0, squares = 0.0
                for r in 0..<rows { let value = Double(input[r * width + j]); sum += value; squares += value * value }
                sums[1 + j] = sum
                sums[1 + width + j] = squares
            }
        }
        sums.withUnsafeMutableBufferPointer { combine($0) }
        guard sums[0] > 0 else { return }
        var m = mean.value, v = variance.value, n = count.value
        let previous = n[flat: 0], batch = Float(sums[0]), total = previous + batch
        for j in 0..<width {
            let batchMean = sums[1 + j] / sums[0]
            let batchVariance = Float(max(sums[1 + width + j] / sums[0] - batchMean * batchMean, 0))
            merge(feature: j, batchMean: Float(batchMean), batchVariance: batchVariance, previous: previous, batch: batch, into: &m, &v)
        }
        n[flat: 0] = total
    }
}
