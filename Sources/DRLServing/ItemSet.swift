/// A set of item indices below a catalogue's size, one bit per item: what a model allows for a
/// request, and the pool an exploring list draws from, without an array the catalogue's length.
/// Its elements are in increasing order, as a pool's are.
public struct ItemSet: Sendable, Equatable {
    public let capacity: Int
    public private(set) var count = 0
    private var words: [UInt64]

    /// The empty set of a catalogue of `capacity` items.
    public init(capacity: Int) {
        precondition(capacity >= 0, "ItemSet: capacity \(capacity)")
        self.capacity = capacity
        words = [UInt64](repeating: 0, count: (capacity + 63) / 64)
    }

    /// The items whose value in `values` (one per item) satisfies `isIncluded`, set a word at a time.
    public init(capacity: Int, where isIncluded: (Float) -> Bool, values: UnsafeBufferPointer<Float>) {
        precondition(values.count == capacity, "ItemSet: \(values.count) values for \(capacity) items")
        self.init(capacity: capacity)
        var total = 0
        words.withUnsafeMutableBufferPointer { words in
            for w in words.indices {
                var word: UInt64 = 0
                for bit in 0..<min(64, capacity - w * 64) where isIncluded(values[w * 64 + bit]) { word |= 1 << UInt64(bit) }
                words[w] = word
                total += word.nonzeroBitCount
            }
        }
        count = total
    }

    public func contains(_ item: Int32) -> Bool {
        let i = Int(item)
        return i >= 0 && i < capacity && words[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    public mutating func insert(_ item: Int32) {
        let i = Int(item)
        precondition(i >= 0 && i < capacity, "ItemSet: item \(i) outside 0..<\(capacity)")
        let bit: UInt64 = 1 << UInt64(i & 63)
        if words[i >> 6] & bit == 0 { words[i >> 6] |= bit; count += 1 }
    }

    /// Inserts every item of `items`, over the raw words: one uniqueness check for all of them
    /// instead of one an item (a ranker's thousand-odd eligible items a request). A concrete
    /// type, not a generic sequence: across modules a generic one is iterated through its witness
    /// table, slower than inserting one at a time.
    public mutating func insert(contentsOf items: ArraySlice<Int32>) {
        let capacity = capacity
        var added = 0
        words.withUnsafeMutableBufferPointer { words in
            for item in items {
                let i = Int(item)
                precondition(i >= 0 && i < capacity, "ItemSet: item \(i) outside 0..<\(capacity)")
                let bit: UInt64 = 1 << UInt64(i & 63)
                if words[i >> 6] & bit == 0 { words[i >> 6] |= bit; added += 1 }
            }
        }
        count += added
    }

    public mutating func remove(_ item: Int32) {
        let i = Int(item)
        guard i >= 0 && i < capacity else { return }
        let bit: UInt64 = 1 << UInt64(i & 63)
        if words[i >> 6] & bit != 0 { words[i >> 6] &= ~bit; count -= 1 }
    }

    /// The element with `rank` smaller elements (0-based), found a word at a time.
    public func element(rank: Int) -> Int32 {
        precondition(rank >= 0 && rank < count, "ItemSet: rank \(rank) of \(count) elements")
        var left = rank
        for (w, word) in words.enumerated() {
            let ones = word.nonzeroBitCount
            if left < ones {
                var rest = word
                for _ in 0..<left { rest &= rest - 1 }
                return Int32(w * 64 + rest.trailingZeroBitCount)
            }
            left -= ones
        }
        preconditionFailure("ItemSet: count out of step with its bits")
    }

    /// The elements in increasing order.
    public var elements: [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(count)
        for (w, word) in words.enumerated() {
            var rest = word
            while rest != 0 {
                out.append(Int32(w * 64 + rest.trailingZeroBitCount))
                rest &= rest - 1
            }
        }
        return out
    }
}
