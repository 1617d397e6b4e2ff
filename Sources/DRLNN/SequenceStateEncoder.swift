import DRLTensor

/// The state encoder S_t = f(u_t, h_{t−1}, c_t) of a recommender: the last N interactions and the
/// context, read from one flat observation row, become one state vector.
///
/// An observation row is [context (C) | token 0 | … | token N−1], oldest token first, each token
/// [item, category, event type, engagement (E)] with the ids stored as floats. A token whose item
/// is negative is padding (a history shorter than N is padded at the front).
///
/// - Each token is embedded as item + category + event-type embeddings + a linear map of its
///   engagement features, plus a learned position; padding tokens use the tables' padding rows.
/// - A sequence model chosen by configuration reads the tokens: a stack of pre-LN transformer
///   blocks with a causal and a key-padding mask, a GRU, or two causal dilated convolutions
///   (dilations 1 and 2).
///   Its output at the last position summarises the behaviour.
///   Optionally a LayerNorm follows it (the final norm a stack of pre-LN blocks otherwise lacks).
/// - The context goes through its own Linear + GELU, in parallel; the two are fused by a Linear +
///   GELU into the state (GELU throughout: smooth, so finite differences check it exactly), or by
///   the Linear alone.
/// - The engagement and context features are normalised by running statistics first.
///
/// Backward accumulates into every parameter; the observation itself gets no gradient (its ids
/// are data), so `backward` returns zeros.
public final class SequenceStateEncoder: Layer {
    /// The encoder's shape: the vocabularies (items, categories, event types), the history it
    /// reads, the features beside the items, the token and state widths, the sequence model and
    /// its regularisation.
    public struct Configuration: Sendable {
        /// What reads the token sequence: causal self-attention blocks, a GRU, or causal 1-D
        /// convolutions.
        public enum SequenceModel: String, Sendable, CaseIterable { case attention, gru, convolution }

        /// The longest history an encoder reads: its position table and per-sequence workspace grow
        /// with it, and files and flags that ask for more are refused against this.
        public static let maximumHistoryLength = 4_096

        public var items: Int, categories: Int, eventTypes: Int
        public var historyLength: Int
        public var engagementFeatures: Int, contextFeatures: Int
        public var dimension = 32, heads = 2
        public var outputDimension = 64
        public var sequenceModel = SequenceModel.attention
        /// Transformer blocks of the attention model, one after the other (one block's parameters
        /// are named "sequence.ln1", …; a stack's "sequence.0.ln1", …).
        public var blocks = 1
        /// Dropout, in training mode, of the tokens, of each transformer block's two residual
        /// branches and of the sequence model's outputs.
        public var dropout: Float = 0
        /// A LayerNorm on the sequence model's outputs (parameters "final_norm"): a stack of pre-LN
        /// transformer blocks adds each block's output to an unnormalised residual stream, and
        /// SASRec normalises that stream once more before scoring.
        public var finalNormalization = false
        /// The fusion Linear's output is the state, with no GELU after it: an output layer tied to
        /// the item embedding then scores items by a bilinear form of the sequence's summary and
        /// the item embeddings, as SASRec's dot product does.
        public var linearState = false

        public init(items: Int, categories: Int, eventTypes: Int, historyLength: Int, engagementFeatures: Int, contextFeatures: Int) {
            self.items = items
            self.categories = categories
            self.eventTypes = eventTypes
            self.historyLength = historyLength
            self.engagementFeatures = engagementFeatures
            self.contextFeatures = contextFeatures
        }

        /// Floats per token: item, category, event type and the engagement features.
        public var tokenWidth: Int { 3 + engagementFeatures }
        /// Floats per observation row.
        public var observationDimension: Int { contextFeatures + historyLength * tokenWidth }
    }

    public let configuration: Configuration
    public let itemEmbedding: Embedding, categoryEmbedding: Embedding, eventEmbedding: Embedding
    public let engagementProjection: Linear?
    public let positions: LearnedPositionalEncoding
    public let sequence: Layer
    /// The attention model's blocks, in `sequence` (none for the other sequence models).
    private let transformerBlocks: [TransformerBlock]
    public let contextProjection: Linear, fusion: Linear
    /// The LayerNorm after the sequence model (`Configuration.finalNormalization`).
    public let finalNorm: LayerNorm?
    private let tokenDropout: Dropout, sequenceDropout: Dropout
    /// Running statistics of the context features, and of the real tokens' engagement features.
    public let contextNormalizer: RunningNormalizer, engagementNormalizer: RunningNormalizer
    public var isTraining = true {
        didSet { for module in modules { module.isTraining = isTraining } }
    }
    /// When set, `forward` returns the state at every position, [batch, N, outputDimension]
    /// (every sequence model is causal: position t sees tokens up to t), so that a next-item loss
    /// can be taken at every position in one pass; otherwise only the last position's,
    /// [batch, outputDimension].
    public var outputsEveryPosition = false
    private var everyPositionOut = false
    private let contextActivation = ActivationLayer(.gelu), fusionActivation = ActivationLayer(.gelu)
    private var itemIds: [Int32] = [], categoryIds: [Int32] = [], eventIds: [Int32] = [], padding: [Bool] = []
    private var rawContext = Buffer(), rawEngagement = Buffer(), engagement = Buffer(), tokens = Buffer(), fused = Buffer()
    private var realTokens = 0
    private var dSequence = Buffer(), dContextState = Buffer(), dInput = Buffer()
    private var batch = 0

    public init(_ configuration: Configuration, using rng: inout RandomGenerator) {
        let c = configuration, d = c.dimension
        require(c.items > 0 && c.categories > 0 && c.eventTypes > 0 && c.historyLength > 0 && c.engagementFeatures >= 0
                && c.contextFeatures > 0 && d > 0 && c.outputDimension > 0 && c.blocks > 0,
                "SequenceStateEncoder: sizes must be positive (engagement features may be 0), got \(c)")
        self.configuration = configuration
        func table(_ count: Int) -> Embedding {
            let e = Embedding(count + 1, d, paddingIndex: Int32(count), using: &rng)
            scal(0.1, &e.weight.value)
            return e
        }
        itemEmbedding = table(c.items)
        categoryEmbedding = table(c.categories)
        eventEmbedding = Self.eventTable(c.eventTypes, d, using: &rng)
        engagementProjection = c.engagementFeatures > 0 ? Linear(c.engagementFeatures, d, using: &rng) : nil
        positions = LearnedPositionalEncoding(maxLength: c.historyLength, dimension: d, using: &rng)
        switch c.sequenceModel {
        case .attention:
            let stack = (0..<c.blocks).map { i in
                TransformerBlock(dimension: d, heads: c.heads, hidden: 2 * d, causal: true, dropout: c.dropout,
                                 dropoutSeed: 0xB10C + 2 * UInt64(i), using: &rng)
            }
            transformerBlocks = stack
            sequence = stack.count == 1 ? stack[0] : Sequential(stack)
        case .gru:
            transformerBlocks = []
            sequence = GRU(inputSize: d, hiddenSize: d, using: &rng)
        case .convolution:
            transformerBlocks = []
            sequence = Sequential([Conv1d(d, d, kernelSize: 3, dilation: 1, using: &rng), ActivationLayer(.gelu),
                                   Conv1d(d, d, kernelSize: 3, dilation: 2, using: &rng), ActivationLayer(.gelu)])
        }
        finalNorm = c.finalNormalization ? LayerNorm(d) : nil  // draws nothing: the other weights stay as they were
        // Fixed dropout seeds, so that adding dropout leaves the initial weights as they were.
        tokenDropout = Dropout(rate: c.dropout, seed: 0x70CE)
        sequenceDropout = Dropout(rate: c.dropout, seed: 0x5E0)
        contextProjection = Linear(c.contextFeatures, d, using: &rng)
        fusion = Linear(2 * d, c.outputDimension, using: &rng)
        contextNormalizer = RunningNormalizer(features: c.contextFeatures)
        engagementNormalizer = RunningNormalizer(features: c.engagementFeatures)
    }

    /// Has both normalizers take each training batch's statistics over the ranks of data-parallel
    /// training (see `RunningNormalizer.combine`); nil for this process's batch alone.
    public func combineStatistics(_ combine: ((UnsafeMutableBufferPointer<Double>) -> Void)?) {
        contextNormalizer.combine = combine
        engagementNormalizer.combine = combine
    }

    /// What a rank with no share of a training batch does in its place: its normalizers take part
    /// in the batch's statistics with no rows, as `forward` would have them do.
    public func contributeNoRows() {
        _ = contextNormalizer.forward(Tensor(zeros: Shape(0, configuration.contextFeatures)))
        if engagementProjection != nil { _ = engagementNormalizer.forward(Tensor(zeros: Shape(0, configuration.engagementFeatures))) }
    }

    /// Rows of the event-type table drawn from the model's stream: the 14 feedback kinds there
    /// were when the next-item model's results were recorded, and the padding row's place. Rows
    /// past these (kinds added since: `mastery`) come from a stream of their own, so that a new
    /// kind leaves every other initial weight, and so every recorded model, as it was.
    static let eventRowsFromTheModelStream = 15

    /// The event-type table, N(0, 1) × 0.1 with a zero padding row like the other tables, its
    /// first `eventRowsFromTheModelStream` rows from `rng` and the others from a stream seeded by a
    /// copy of it (`rng` itself draws no more than those rows).
    private static func eventTable(_ count: Int, _ dimension: Int, using rng: inout RandomGenerator) -> Embedding {
        var copy = rng
        var own = RandomGenerator(seed: copy.next(), stream: 0xE7E7)
        let table = Embedding(count + 1, dimension, paddingIndex: Int32(count), using: &own)
        var shared = table.weight.value[rows: 0..<min(count + 1, eventRowsFromTheModelStream)]
        rng.fillNormal(&shared)
        var padding = table.weight.value[rows: count..<(count + 1)]
        padding.fill(with: 0)
        scal(0.1, &table.weight.value)
        return table
    }

    /// Restarts every dropout mask of the encoder on `stream` (see `Dropout.useStream`).
    public func useDropoutStream(_ stream: UInt64) {
        tokenDropout.useStream(stream)
        sequenceDropout.useStream(stream)
        for block in transformerBlocks { block.useDropoutStream(stream) }
    }

    private var modules: [Module] {
        [itemEmbedding, categoryEmbedding, eventEmbedding, positions, sequence, contextProjection, fusion, contextNormalizer, engagementNormalizer,
         tokenDropout, sequenceDropout]
            + (engagementProjection.map { [$0] } ?? []) + (finalNorm.map { [$0] } ?? [])
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixedParameters([("item", itemEmbedding), ("category", categoryEmbedding), ("event", eventEmbedding),
                            ("position", positions), ("sequence", sequence), ("context", contextProjection), ("fusion", fusion),
                            ("context_normalizer", contextNormalizer), ("engagement_normalizer", engagementNormalizer)]
                           + (engagementProjection.map { [("engagement", $0)] } ?? [])
                           + (finalNorm.map { [("final_norm", $0)] } ?? []))
    }

    public var outputDimension: Int { configuration.outputDimension }

    /// The states of the observation rows `input` [batch, observationDimension] → [batch, outputDimension].
    public func forward(_ input: Tensor) -> Tensor {
        let c = configuration, n = c.historyLength, d = c.dimension, e = c.engagementFeatures, w = c.tokenWidth
        require(input.rank == 2 && input.shape[1] == c.observationDimension,
                "SequenceStateEncoder: observations must be [batch, \(c.observationDimension)] (\(c.contextFeatures) context + \(n) tokens × \(w)), got \(input.shape)")
        batch = input.shape[0]
        let rows = batch * n
        // Ids, padding, the context rows and the real tokens' engagement rows (padding has none).
        itemIds.removeAll(keepingCapacity: true)
        categoryIds.removeAll(keepingCapacity: true)
        eventIds.removeAll(keepingCapacity: true)
        padding.removeAll(keepingCapacity: true)
        var contextRows = rawContext.view(Shape(batch, c.contextFeatures))
        var engagementRows = rawEngagement.view(Shape(rows, e))
        realTokens = 0
        input.withUnsafeBufferPointer { x in
            for b in 0..<batch {
                let row = b * c.observationDimension
                for j in 0..<c.contextFeatures { contextRows[b, j] = x[row + j] }
                for t in 0..<n {
                    let token = row + c.contextFeatures + t * w
                    let isPadding = x[token] < 0
                    padding.append(isPadding)
                    itemIds.append(isPadding ? Int32(c.items) : Self.id(x[token], below: c.items, "item", b, t))
                    categoryIds.append(isPadding ? Int32(c.categories) : Self.id(x[token + 1], below: c.categories, "category", b, t))
                    eventIds.append(isPadding ? Int32(c.eventTypes) : Self.id(x[token + 2], below: c.eventTypes, "event type", b, t))
                    if !isPadding {
                        for k in 0..<e { engagementRows[realTokens, k] = x[token + 3 + k] }
                        realTokens += 1
                    }
                }
            }
        }
        let contextState = contextActivation.forward(contextProjection.forward(contextNormalizer.forward(contextRows)))
        var x = tokens.view(Shape(rows, d))
        x.copy(from: itemEmbedding.forward(itemIds, shape: Shape(rows)))
        x += categoryEmbedding.forward(categoryIds, shape: Shape(rows))
        x += eventEmbedding.forward(eventIds, shape: Shape(rows))
        if let engagementProjection {
            let normalized = engagementNormalizer.forward(engagementRows[rows: 0..<realTokens])
            var perToken = engagement.view(Shape(rows, e))
            var next = 0
            for r in 0..<rows {
                for k in 0..<e { perToken[r, k] = padding[r] ? 0 : normalized[next, k] }
                if !padding[r] { next += 1 }
            }
            x += engagementProjection.forward(perToken)
        }
        for block in transformerBlocks { block.attention.keyPaddingMask = padding }
        var summary = sequence.forward(tokenDropout.forward(positions.forward(x.reshaped(Shape(batch, n, d)))))
        if let finalNorm { summary = finalNorm.forward(summary) }
        let encoded = sequenceDropout.forward(summary)
        // One state per row, from the last position, or one per position (row b·N + t).
        everyPositionOut = outputsEveryPosition
        let states = everyPositionOut ? n : 1
        var joined = fused.view(Shape(batch * states, 2 * d))
        for b in 0..<batch {
            for p in 0..<states {
                let t = everyPositionOut ? p : n - 1, row = b * states + p
                for j in 0..<d {
                    joined[row, j] = encoded[b, t, j]
                    joined[row, d + j] = contextState[b, j]
                }
            }
        }
        let linear = fusion.forward(joined)
        let out = c.linearState ? linear : fusionActivation.forward(linear)
        return everyPositionOut ? out.reshaped(Shape(batch, n, c.outputDimension)) : out
    }

    private static func id(_ value: Float, below limit: Int, _ what: String, _ row: Int, _ token: Int) -> Int32 {
        require(value >= 0 && value < Float(limit) && value.rounded() == value,
                "SequenceStateEncoder: row \(row), token \(token) has \(what) \(value); ids are whole numbers in 0..<\(limit)")
        return Int32(value)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        backwardParametersOnly(gradOutput)
        var zeros = dInput.view(Shape(batch, configuration.observationDimension))
        zeros.fill(with: 0)
        return zeros
    }

    public func backwardParametersOnly(_ gradOutput: Tensor) {
        let c = configuration, n = c.historyLength, d = c.dimension, states = everyPositionOut ? n : 1
        let g = gradOutput.reshaped(Shape(batch * states, c.outputDimension))
        let dJoined = fusion.backward(c.linearState ? g : fusionActivation.backward(g))
        var dEncoded = dSequence.view(Shape(batch, n, d))
        dEncoded.fill(with: 0)
        var dContext = dContextState.view(Shape(batch, d))
        dContext.fill(with: 0)
        for b in 0..<batch {
            for p in 0..<states {
                let t = everyPositionOut ? p : n - 1, row = b * states + p
                for j in 0..<d {
                    dEncoded[b, t, j] = dJoined[row, j]
                    dContext[b, j] += dJoined[row, d + j]
                }
            }
        }
        contextProjection.backwardParametersOnly(contextActivation.backward(dContext))
        var dSummary = sequenceDropout.backward(dEncoded)
        if let finalNorm { dSummary = finalNorm.backward(dSummary) }
        let dTokens = positions.backward(tokenDropout.backward(sequence.backward(dSummary))).reshaped(Shape(batch * n, d))
        itemEmbedding.backward(dTokens)
        categoryEmbedding.backward(dTokens)
        eventEmbedding.backward(dTokens)
        engagementProjection?.backwardParametersOnly(dTokens)
    }
}
