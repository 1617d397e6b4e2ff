import DRLTensor

/// The diversity term of the reward, R′ₜ = Rₜ − λ·penalty(aₜ): the penalty of recommending an item
/// is its largest cosine similarity (floored at 0) to the last `window` items recommended, so
/// showing near-duplicates of what the user just saw costs reward.
public struct DiversityPenalty: Sendable, Equatable {
    /// λ: 0 turns the penalty off.
    public var weight: Float
    public var window: Int

    public init(weight: Float, window: Int = 5) {
        require(weight >= 0 && window >= 1, "DiversityPenalty: weight \(weight) must be ≥ 0 and window \(window) ≥ 1")
        self.weight = weight
        self.window = window
    }

    /// The penalty of `item` after `recent` (oldest first; only the last `window` count).
    public func penalty(of item: Int, after recent: ArraySlice<Int32>, in catalogue: Catalogue) -> Float {
        var largest: Float = 0
        for previous in recent.suffix(window) { largest = max(largest, catalogue.similarity(item, Int(previous))) }
        return largest
    }

    /// R − λ·penalty.
    public func apply(_ reward: Float, item: Int, after recent: ArraySlice<Int32>, in catalogue: Catalogue) -> Float {
        weight == 0 ? reward : reward - weight * penalty(of: item, after: recent, in: catalogue)
    }
}
