import DRLNN
import DRLTensor
import Testing

@Suite(.serialized) struct SequenceStateEncoderTests {

    static func configuration(_ model: SequenceStateEncoder.Configuration.SequenceModel) -> SequenceStateEncoder.Configuration {
        var c = SequenceStateEncoder.Configuration(items: 7, categories: 3, eventTypes: 3, historyLength: 4, engagementFeatures: 2,
                                                   contextFeatures: 3)
        c.dimension = 8
        c.outputDimension = 5
        c.sequenceModel = model
        return c
    }

    /// Observation rows: row 0 with a full history, row 1 padded in front, row 2 with no history at all.
    static func observations(_ c: SequenceStateEncoder.Configuration) -> Tensor {
        var rng = RandomGenerator(seed: 5)
        var scalars: [Float] = []
        for (row, real) in [4, 2, 0].enumerated() {
            scalars += (0..<c.contextFeatures).map { _ in rng.uniform(-1, 1) + Float(row) }
            for t in 0..<c.historyLength {
                if t < c.historyLength - real {
                    scalars += [-1] + [Float](repeating: 0, count: c.tokenWidth - 1)
                } else {
                    scalars += [Float(rng.nextIndex(below: c.items)), Float(rng.nextIndex(below: c.categories)),
                                Float(rng.nextIndex(below: c.eventTypes))] + (0..<c.engagementFeatures).map { _ in rng.uniform(0, 2) }
                }
            }
        }
        return Tensor(shape: Shape(3, c.observationDimension), scalars: scalars)
    }

    /// Every parameter's gradient, through embeddings, positions, the sequence model, the context
    /// path and the fusion, against central finite differences (evaluation mode, so that the
    /// running statistics stay fixed between the probes).
    @Test(arguments: SequenceStateEncoder.Configuration.SequenceModel.allCases, [false, true])
    func gradientsMatchFiniteDifferences(_ model: SequenceStateEncoder.Configuration.SequenceModel, everyPosition: Bool) {
        let c = Self.configuration(model)
        var rng = RandomGenerator(seed: 3)
        let encoder = SequenceStateEncoder(c, using: &rng)
        encoder.isTraining = false
        encoder.outputsEveryPosition = everyPosition
        // The tables' padding rows are constants (zero, never trained), so they are not probed.
        let paddingRows = ["item.weight": c.items, "category.weight": c.categories, "event.weight": c.eventTypes]
        GradientCheck.check(encoder, input: Self.observations(c), checkInput: false) { name, index in
            paddingRows[name].map { index / c.dimension == $0 } ?? false
        }
    }

    /// The same with SASRec's final LayerNorm after the sequence model and a linear state.
    @Test(arguments: SequenceStateEncoder.Configuration.SequenceModel.allCases, [false, true])
    func gradientsMatchFiniteDifferencesWithFinalNormAndLinearState(_ model: SequenceStateEncoder.Configuration.SequenceModel, everyPosition: Bool) {
        var c = Self.configuration(model)
        c.finalNormalization = true
        c.linearState = true
        var rng = RandomGenerator(seed: 3)
        let encoder = SequenceStateEncoder(c, using: &rng)
        encoder.isTraining = false
        encoder.outputsEveryPosition = everyPosition
        #expect(encoder.namedParameters.contains { $0.name == "final_norm.weight" })
        let paddingRows = ["item.weight": c.items, "category.weight": c.categories, "event.weight": c.eventTypes]
        GradientCheck.check(encoder, input: Self.observations(c), checkInput: false) { name, index in
            paddingRows[name].map { index / c.dimension == $0 } ?? false
        }
    }

    /// The two options draw no weights: an encoder with them has the plain encoder's weights plus
    /// the final norm's; a linear state is the plain state before its GELU.
    @Test func finalNormAndLinearStateAddOnlyWhatTheySay() {
        var plainConfiguration = Self.configuration(.attention)
        plainConfiguration.engagementFeatures = 0
        var c = plainConfiguration
        c.linearState = true
        var rng1 = RandomGenerator(seed: 11), rng2 = RandomGenerator(seed: 11)
        let plain = SequenceStateEncoder(plainConfiguration, using: &rng1), linear = SequenceStateEncoder(c, using: &rng2)
        plain.isTraining = false
        linear.isTraining = false
        let batch = Self.observations(plainConfiguration)
        let before = linear.forward(batch).clone(), after = plain.forward(batch).clone()
        let gelu = ActivationLayer(.gelu)
        #expect(gelu.forward(before).scalars == after.scalars)
        #expect(before.scalars.contains { $0 < -0.2 }, "a GELU's output is never below -0.17, a linear state's can be")

        c.linearState = false
        c.finalNormalization = true
        var rng3 = RandomGenerator(seed: 11)
        let normed = SequenceStateEncoder(c, using: &rng3)
        let plainWeights = Dictionary(uniqueKeysWithValues: plain.namedParameters.map { ($0.name, $0.parameter.value.scalars) })
        let normedWeights = Dictionary(uniqueKeysWithValues: normed.namedParameters.map { ($0.name, $0.parameter.value.scalars) })
        #expect(Set(normedWeights.keys).subtracting(plainWeights.keys) == ["final_norm.weight", "final_norm.bias"])
        for (name, value) in plainWeights { #expect(normedWeights[name] == value, "\(name)") }
    }

    /// Padding tokens change nothing: a history padded in front encodes as the same history
    /// anywhere else in the batch, and the padding rows of the tables get no gradient.
    @Test(arguments: SequenceStateEncoder.Configuration.SequenceModel.allCases)
    func paddingIsIgnoredAndRowsAreIndependent(_ model: SequenceStateEncoder.Configuration.SequenceModel) {
        let c = Self.configuration(model)
        var rng = RandomGenerator(seed: 4)
        let encoder = SequenceStateEncoder(c, using: &rng)
        encoder.isTraining = false
        let batch = Self.observations(c)
        let together = encoder.forward(batch).clone()
        for row in 0..<3 {
            let alone = encoder.forward(batch[rows: row..<(row + 1)].clone())
            for j in 0..<c.outputDimension { #expect(abs(alone[0, j] - together[row, j]) < 1e-5) }
        }
        for (_, p) in encoder.namedParameters { var g = p.gradient; g.fill(with: 0) }
        _ = encoder.forward(batch)
        encoder.backwardParametersOnly(Tensor(shape: Shape(3, c.outputDimension), repeating: 1))
        for table in [encoder.itemEmbedding, encoder.categoryEmbedding, encoder.eventEmbedding] {
            let paddingRow = Int(table.paddingIndex!)
            for j in 0..<c.dimension { #expect(table.weight.gradient[paddingRow, j] == 0 && table.weight.value[paddingRow, j] == 0) }
        }
    }

    /// The state at every position: its last position is the last-position state, and position t
    /// does not depend on later tokens (causality).
    @Test(arguments: SequenceStateEncoder.Configuration.SequenceModel.allCases)
    func everyPositionStatesAreCausal(_ model: SequenceStateEncoder.Configuration.SequenceModel) {
        let c = Self.configuration(model)
        var rng = RandomGenerator(seed: 7)
        let encoder = SequenceStateEncoder(c, using: &rng)
        encoder.isTraining = false
        var batch = Self.observations(c)
        let last = encoder.forward(batch).clone()
        encoder.outputsEveryPosition = true
        let all = encoder.forward(batch).clone()
        for b in 0..<3 { for j in 0..<c.outputDimension { #expect(abs(all[b, c.historyLength - 1, j] - last[b, j]) < 1e-5) } }
        // Change row 0's last token: the states of its earlier positions stay.
        let lastToken = c.contextFeatures + (c.historyLength - 1) * c.tokenWidth
        batch[0, lastToken] = Float((Int(batch[0, lastToken]) + 1) % c.items)
        let changed = encoder.forward(batch)
        for t in 0..<(c.historyLength - 1) { for j in 0..<c.outputDimension { #expect(abs(changed[0, t, j] - all[0, t, j]) < 1e-5) } }
        #expect((0..<c.outputDimension).contains { abs(changed[0, c.historyLength - 1, $0] - all[0, c.historyLength - 1, $0]) > 1e-4 })
    }

    /// Dropout acts in training mode only, and does not change the initial weights: in evaluation
    /// mode an encoder with dropout computes what one without computes.
    @Test func dropoutActsOnlyInTraining() {
        var c = Self.configuration(.attention), plain = c
        c.dropout = 0.5
        plain.dropout = 0
        var rng1 = RandomGenerator(seed: 9), rng2 = RandomGenerator(seed: 9)
        let dropped = SequenceStateEncoder(c, using: &rng1), reference = SequenceStateEncoder(plain, using: &rng2)
        let batch = Self.observations(c)
        let first = dropped.forward(batch).clone(), second = dropped.forward(batch).clone()
        #expect(first != second)
        // The same training-mode forwards on the reference, so that both normalisers saw the same rows.
        _ = reference.forward(batch)
        _ = reference.forward(batch)
        dropped.isTraining = false
        reference.isTraining = false
        #expect(dropped.forward(batch).clone() == reference.forward(batch).clone())
    }

    /// In training mode the context statistics count every row and the engagement statistics only
    /// the real tokens (4 + 2 + 0 here); in evaluation mode they stay.
    @Test func statisticsLearnFromContextRowsAndRealTokensOnly() {
        let c = Self.configuration(.gru)
        var rng = RandomGenerator(seed: 6)
        let encoder = SequenceStateEncoder(c, using: &rng)
        _ = encoder.forward(Self.observations(c))
        #expect(encoder.contextNormalizer.count.value[flat: 0] == 3 && encoder.engagementNormalizer.count.value[flat: 0] == 6)
        encoder.isTraining = false
        _ = encoder.forward(Self.observations(c))
        #expect(encoder.contextNormalizer.count.value[flat: 0] == 3 && encoder.engagementNormalizer.count.value[flat: 0] == 6)
    }

    /// In training mode the normaliser learns the features' running mean and variance (checked
    /// against the statistics of all rows at once); in evaluation mode it applies them, clipped.
    @Test func theNormalizerTracksRunningStatistics() {
        let normalizer = RunningNormalizer(features: 2)
        var rng = RandomGenerator(seed: 8)
        var all: [[Float]] = []
        for _ in 0..<5 {
            let rows = (0..<7).map { _ in [rng.normal(mean: 3, std: 2), rng.normal(mean: -1, std: 0.5)] }
            all += rows
            _ = normalizer.forward(Tensor(shape: Shape(7, 2), scalars: rows.flatMap { $0 }))
        }
        for j in 0..<2 {
            let values = all.map { Double($0[j]) }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            #expect(abs(Double(normalizer.mean.value[flat: j]) - mean) < 1e-4)
            #expect(abs(Double(normalizer.variance.value[flat: j]) - variance) < 1e-3 * max(1, variance))
        }
        normalizer.isTraining = false
        let y = normalizer.forward(Tensor(shape: Shape(1, 2), scalars: [normalizer.mean.value[flat: 0], 100]))
        #expect(abs(y[0, 0]) < 1e-6 && y[0, 1] == normalizer.clip)
    }
}
