import DRLTensor

/// Hard platform rules: items of blocked categories are never recommended. Masking sets their
/// scores to −∞ before any ranking or sampling, so no policy, learned or not, can pick them; a
/// slate can also be checked after the fact.
public struct PlatformConstraints: Sendable {
    public let blockedCategories: Set<Int32>
    /// The items of the blocked categories in the catalogue the constraints were built for.
    public let blockedItems: [Int32]
    private let itemCount: Int

    public init(blocking categories: Set<Int32>, in catalogue: Catalogue) {
        for category in categories where category < 0 || Int(category) >= catalogue.categoryCount {
            requirementFailure("PlatformConstraints: category \(category) is outside the catalogue's 0..<\(catalogue.categoryCount)")
        }
        blockedCategories = categories
        blockedItems = catalogue.categories.indices.filter { categories.contains(catalogue.categories[$0]) }.map { Int32($0) }
        itemCount = catalogue.count
        require(blockedItems.count < catalogue.count, "PlatformConstraints: every item of the catalogue would be blocked")
    }

    /// No constraint.
    public static func none(_ catalogue: Catalogue) -> PlatformConstraints { PlatformConstraints(blocking: [], in: catalogue) }

    public func allows(_ item: Int, in catalogue: Catalogue) -> Bool { !blockedCategories.contains(catalogue.categories[item]) }

    /// Sets the scores of blocked items to −∞ in every row of `scores` ([rows, items] or [items]).
    public func mask(_ scores: inout Tensor) {
        guard !blockedItems.isEmpty else { return }
        let rows = scores.count / itemCount
        require(rows * itemCount == scores.count && scores.shape[-1] == itemCount,
                "PlatformConstraints.mask: scores \(scores.shape) do not end in the catalogue's \(itemCount) items")
        scores.withUnsafeMutableBufferPointer { s in
            for r in 0..<rows { for item in blockedItems { s[r * itemCount + Int(item)] = -.infinity } }
        }
    }

    /// Throws when `slate` holds a blocked item, naming its position, the item and its category.
    public func check(_ slate: [Int32], in catalogue: Catalogue) throws(ConstraintViolation) {
        for (position, item) in slate.enumerated() where !allows(Int(item), in: catalogue) {
            throw ConstraintViolation(position: position, item: Int(item), category: Int(catalogue.categories[Int(item)]))
        }
    }
}

/// A recommendation that broke a platform rule.
public struct ConstraintViolation: Error, Equatable, CustomStringConvertible {
    public let position: Int, item: Int, category: Int
    public var description: String { "slate position \(position) holds item \(item) of blocked category \(category)" }
}
