import DRLTensor

/// Exploration in a model's own action, for a model that acts before it scores (a list-wise
/// ranker's ranking weights): Gaussian noise of standard deviation `scale` added to the action,
/// drawn from a generator keyed by the served list's impression id.
///
/// Position exploration (`SlateExploration.place`) varies which items are shown around the
/// model's list; it never varies the model's action, so a learner whose critic values actions
/// sees, in the served logs, only the actions the serving version took and cannot tell a better
/// one from them. Noise on the action gives it the alternatives. Keying the draws by the impression
/// id makes them part of the log without a column of their own: whoever replays a list (an
/// off-policy estimate of the serving model, fine-tuning on the served lists) draws the same noise
/// from its id, so the served list's propensities are those of the list given the noise, and an
/// evaluated model is replayed with the noise its list would have had. Importance weights given
/// the noise are unbiased: the noise is drawn independently of the user's response.
public struct ActionNoise: Sendable, Equatable {
    /// The noise's standard deviation, in the action's units.
    public let scale: Float
    /// The draws' key.
    public let key: UInt64

    public init(scale: Float, key: UInt64) {
        require(scale >= 0 && scale.isFinite, "ActionNoise: the scale must be non-negative and finite, got \(scale)")
        (self.scale, self.key) = (scale, key)
    }

    /// The noise of the list with impression id `impression` (FNV-1a of its UTF-8 bytes).
    public init(scale: Float, impression: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in impression.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        self.init(scale: scale, key: hash)
    }

    /// Adds the noise to `action` in place, each element clamped to `[low, high]` (the action
    /// space's bounds).
    public func perturb(_ action: inout Tensor, low: Float, high: Float) {
        var generator = RandomGenerator(seed: key, stream: 0xA0)
        for i in 0..<action.count {
            action[flat: i] = min(max(action[flat: i] + scale * generator.normal(), low), high)
        }
    }
}
