/// The slates a platform has shown one user, as its view of the user keeps them from `.impression`
/// events (value: the item's 1-based position; position 1 starts a new slate) and the responses
/// to them: every item shown, the last two slates, the latest slate, and whether each of the last
/// five slates got a response (a click, a view). The e-commerce and video views share it.
struct ShownSlates: Sendable {
    let slateSize: Int
    /// Slates shown so far.
    private(set) var count = 0
    private(set) var items: Set<Int32> = []
    /// The items of the last two slates, oldest first.
    private(set) var recent: [Int32] = []
    /// The items of the latest slate, in order.
    private(set) var latest: [Int32] = []
    /// Whether each of the last 5 slates got a response, oldest first.
    private(set) var responded: [Bool] = []

    init(slateSize: Int) { self.slateSize = slateSize }

    /// No slate shown (the storage is kept, so a simulator's new episode allocates nothing).
    mutating func clear() {
        count = 0
        items.removeAll(keepingCapacity: true)
        recent.removeAll(keepingCapacity: true)
        latest.removeAll(keepingCapacity: true)
        responded.removeAll(keepingCapacity: true)
    }

    /// Room for `impressions` shown items without growing (a history replayed at once).
    mutating func reserveCapacity(_ impressions: Int) { items.reserveCapacity(impressions) }

    /// Adds an impression: the item at its 1-based `position` (a position other than 1 before
    /// any slate is ignored).
    mutating func show(_ item: Int32, position: Float) {
        if position == 1 {
            count += 1
            latest.removeAll(keepingCapacity: true)
            responded.append(false)
            if responded.count > 5 { responded.removeFirst() }
        }
        guard !latest.isEmpty || position == 1 else { return }
        latest.append(item)
        items.insert(item)
        recent.append(item)
        if recent.count > 2 * slateSize { recent.removeFirst(recent.count - 2 * slateSize) }
    }

    /// The 0-based position of `item` in the latest slate, which then counts as answered; nil
    /// when the latest slate did not show it.
    mutating func respond(to item: Int32) -> Int? {
        guard let position = latest.firstIndex(of: item) else { return nil }
        responded[responded.count - 1] = true
        return position
    }

    /// The share of the last 5 slates that got a response (0 before any).
    var responseRate: Float { responded.isEmpty ? 0 : Float(responded.filter { $0 }.count) / Float(responded.count) }
}
