import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax cross-entropy over a catalogue too large to score whole at every training position,
/// estimated from a sample: each position's target competes with S shared negatives drawn from
/// a proposal Q instead of with every item (sampled softmax, Jean et al. 2015), and every logit
/// is corrected by −log Q(item), which makes the estimate consistent for the full softmax (the
/// log-Q correction of Bengio and Senécal 2008, as in Yi et al. 2019's two-tower retrieval). A
/// negative equal to a position's target is masked for that position (an accidental hit).
///
/// The output layer is y = x·Wᵀ + b over `rows` items (a `Linear`'s weight, or a tied
/// embedding table); the loss reads and accumulates the gradients of only the target and
/// negative rows, and gives the gradient of its inputs in `inputGradient`. Scoring S + 1 items
/// instead of n cuts the head's cost by n/(S + 1); evaluation still ranks the whole catalogue.
public final class SampledSoftmaxLoss {
    public let weight: Parameter, bias: Parameter?
    public let rows: Int
    /// log Q(i) of each item.
    private let logProposal: [Float]
    private let sampler: AliasSampler
    /// The gradient of the last call's inputs, [positions, dimension] (a workspace).
    public private(set) var inputGradient = Tensor(zeros: Shape(0, 0))
    private var negativeRows = Buffer(), negativeScores = Buffer(), logits = Buffer(), logSumExp = Buffer()
    private var negativeGradient = Buffer(), inputBuffer = Buffer()
    private var targetGradient: [Float] = [], negativeOffsets: [Float] = [], targetLogits: [Float] = []

    /// The loss for the first `rows` rows of `weight` ([≥ rows, dimension]) and `bias` ([rows]),
    /// negatives drawn with probabilities in proportion to `proposal` (one non-negative weight per
    /// item, not all 0).
    public init(weight: Parameter, rows: Int, bias: Parameter?, proposal: [Float]) {
        require(weight.value.rank == 2 && rows >= 1 && rows <= weight.value.shape[0] && proposal.count == rows
                && (bias.map { $0.value.shape == Shape(rows) } ?? true),
                "SampledSoftmaxLoss: \(rows) rows of a weight \(weight.value.shape), a bias \(bias?.value.shape.description ?? "none") and \(proposal.count) proposal weights")
        (self.weight, self.bias, self.rows) = (weight, bias, rows)
        sampler = AliasSampler(weights: proposal)
        logProposal = sampler.probabilities.map { log($0) }
    }

    /// Fills `negatives` (its count kept) with draws from the proposal.
    public func sampleNegatives(into negatives: inout [Int32], using rng: inout RandomGenerator) {
        for j in negatives.indices { negatives[j] = sampler.draw(using: &rng) }
    }

    /// The mean over positions of weights[p]·(sampled cross-entropy of targets[p]) given the
    /// inputs [positions, dimension] and the shared `negatives`, as `SoftmaxCrossEntropyLoss`
    /// weighs its rows. Accumulates the gradients of the weight and bias rows it read (unless
    /// frozen) and sets `inputGradient`.
    public func callAsFunction(_ inputs: Tensor, targets: [Int32], weights: Tensor, negatives: [Int32]) -> Float {
        let (positions, dimension) = inputs.shape.matrix, samples = negatives.count
        require(inputs.rank == 2 && dimension == weight.value.shape[1] && targets.count == positions && weights.count == positions && samples >= 1,
                "SampledSoftmaxLoss: inputs \(inputs.shape), \(targets.count) targets, \(weights.count) weights and \(samples) negatives for a weight \(weight.value.shape)")
        for (p, t) in targets.enumerated() { require(t >= 0 && Int(t) < rows, "SampledSoftmaxLoss: target \(t) at position \(p) is outside 0..<\(rows)") }
        for (j, n) in negatives.enumerated() { require(n >= 0 && Int(n) < rows, "SampledSoftmaxLoss: negative \(n) at \(j) is outside 0..<\(rows)") }
        let table = weight.value[rows: 0..<rows]
        var negativeWeights = negativeRows.view(Shape(samples, dimension))
        gatherRows(table, indices: negatives, into: &negativeWeights)
        var scores = negativeScores.view(Shape(positions, samples))
        gemm(inputs, negativeWeights, into: &scores, transposeB: true)
        // Column 0: the target; columns 1…S: the negatives; each corrected by −log Q.
        var z = logits.view(Shape(positions, samples + 1))
        let bias = self.bias?.value
        if negativeOffsets.count < samples { negativeOffsets = [Float](repeating: 0, count: samples) }
        for (j, n) in negatives.enumerated() { negativeOffsets[j] = (bias?[flat: Int(n)] ?? 0) - logProposal[Int(n)] }
        z.withUnsafeMutableBufferPointer { z in
            scores.withUnsafeBufferPointer { s in
                inputs.withUnsafeBufferPointer { x in
                    table.withUnsafeBufferPointer { w in
                        for p in 0..<positions {
                            let t = Int(targets[p]), row = z.baseAddress! + p * (samples + 1)
                            var dot: Float = 0
                            for k in 0..<dimension { dot += x[p * dimension + k] * w[t * dimension + k] }
                            row[0] = dot + (bias?[flat: t] ?? 0) - logProposal[t]
                            for j in 0..<samples {
                                let n = Int(negatives[j])
                                row[1 + j] = n == t ? -.infinity : s[p * samples + j] + negativeOffsets[j]
                            }
                        }
                    }
                }
            }
        }
        // The probabilities replace the logits (the target's logit is kept aside for the loss).
        if targetLogits.count < positions { targetLogits = [Float](repeating: 0, count: positions) }
        for p in 0..<positions { targetLogits[p] = z[flat: p * (samples + 1)] }
        var lse = logSumExp.view(Shape(positions))
        let scoresIn = z
        softmax(scoresIn, into: &z, logSumExp: &lse)
        let y = z
        // Gradients of the logits over the positions' mean: the negatives' into `scores`, the targets' aside.
        if targetGradient.count < positions { targetGradient = [Float](repeating: 0, count: positions) }
        let inverse = 1 / Float(positions)
        // Returned from the closures, not accumulated in a captured variable (which may be boxed on the heap).
        let total: Double = y.withUnsafeBufferPointer { y in
            scores.withUnsafeMutableBufferPointer { g in
                var total = 0.0
                for p in 0..<positions {
                    let w = weights[flat: p], scale = w * inverse
                    total += Double(w * (lse[flat: p] - targetLogits[p]))
                    targetGradient[p] = (y[p * (samples + 1)] - 1) * scale
                    for j in 0..<samples { g[p * samples + j] = y[p * (samples + 1) + 1 + j] * scale }
                }
                return total
            }
        }
        // Inputs: G·W_negatives + each target's gradient times its row.
        inputGradient = inputBuffer.view(inputs.shape)
        gemm(scores, negativeWeights, into: &inputGradient)
        inputGradient.withUnsafeMutableBufferPointer { dx in
            table.withUnsafeBufferPointer { w in
                for p in 0..<positions where targetGradient[p] != 0 {
                    let t = Int(targets[p]), g = targetGradient[p]
                    for k in 0..<dimension { dx[p * dimension + k] += g * w[t * dimension + k] }
                }
            }
        }
        if !weight.isFrozen {
            var dNegatives = negativeGradient.view(Shape(samples, dimension))
            gemm(scores, inputs, into: &dNegatives, transposeA: true)
            var dW = weight.gradient[rows: 0..<rows]
            scatterAddRows(dNegatives, indices: negatives, into: &dW)
            dW.withUnsafeMutableBufferPointer { dw in
                inputs.withUnsafeBufferPointer { x in
                    for p in 0..<positions where targetGradient[p] != 0 {
                        let t = Int(targets[p]), g = targetGradient[p]
                        for k in 0..<dimension { dw[t * dimension + k] += g * x[p * dimension + k] }
                    }
                }
            }
        }
        if let parameter = self.bias, !parameter.isFrozen {
            var db = parameter.gradient
            db.withUnsafeMutableBufferPointer { db in
                scores.withUnsafeBufferPointer { g in
                    for p in 0..<positions {
                        db[Int(targets[p])] += targetGradient[p]
                        for j in 0..<samples { db[Int(negatives[j])] += g[p * samples + j] }
                    }
                }
            }
        }
        return Float(total / Double(positions))
    }
}
