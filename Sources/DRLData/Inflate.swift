/// Why compressed data could not be read: what is wrong and at which byte.
public struct InflateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// DEFLATE decompression (RFC 1951), as zip archives store their members: stored, fixed-Huffman
/// and dynamic-Huffman blocks. Written here so that reading a publisher's zip needs no system
/// library beyond the ones DRLRec already links.
enum Inflate {
    /// The data `compressed` holds, which must inflate to exactly `size` bytes (a member's
    /// declared size, so that a hostile archive cannot make it allocate more).
    static func decompress(_ compressed: ArraySlice<UInt8>, size: Int) throws(InflateError) -> [UInt8] {
        var reader = BitReader(bytes: compressed)
        var out: [UInt8] = []
        out.reserveCapacity(size)
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                try reader.storedBlock(into: &out, limit: size)
            case 1:
                try inflateBlock(&reader, literals: Huffman.fixedLiterals, distances: Huffman.fixedDistances, into: &out, limit: size)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try inflateBlock(&reader, literals: literals, distances: distances, into: &out, limit: size)
            default:
                throw InflateError("block type 3 (reserved) at byte \(reader.offset)")
            }
        }
        guard out.count == size else { throw InflateError("inflated to \(out.count) bytes; the archive declares \(size)") }
        return out
    }

    // Lengths 257...285 and distances 0...29: base values and extra bits (RFC 1951, 3.2.5).
    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                              4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    /// The order in which a dynamic block lists the code lengths of the code-length alphabet.
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private static func inflateBlock(_ reader: inout BitReader, literals: Huffman, distances: Huffman, into out: inout [UInt8],
                                     limit: Int) throws(InflateError) {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                guard out.count < limit else { throw InflateError("inflates past the declared \(limit) bytes") }
                out.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let l = symbol - 257
                guard l < lengthBase.count else { throw InflateError("length symbol \(symbol) at byte \(reader.offset)") }
                let length = lengthBase[l] + (try reader.bits(lengthExtra[l]))
                let d = try distances.decode(&reader)
                guard d < distanceBase.count else { throw InflateError("distance symbol \(d) at byte \(reader.offset)") }
                let distance = distanceBase[d] + (try reader.bits(distanceExtra[d]))
                guard distance <= out.count else { throw InflateError("a match reaches \(distance) bytes back, before the start, at byte \(reader.offset)") }
                guard out.count + length <= limit else { throw InflateError("inflates past the declared \(limit) bytes") }
                // Byte by byte: a match may overlap the bytes it produces.
                let start = out.count - distance
                for k in 0..<length { out.append(out[start + k]) }
            }
        }
    }

    /// The literal/length and distance codes a dynamic block carries, themselves Huffman-coded.
    private static func dynamicTables(_ reader: inout BitReader) throws(InflateError) -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257, distanceCount = try reader.bits(5) + 1, codeLengthCount = try reader.bits(4) + 4
        var codeLengthLengths = [Int](repeating: 0, count: 19)
        for k in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[k]] = try reader.bits(3) }
        let codeLengths = try Huffman(lengths: codeLengthLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengths.decode(&reader)
            switch symbol {
            case 0...15: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw InflateError("a repeat before any code length at byte \(reader.offset)") }
                lengths += repeatElement(previous, count: 3 + (try reader.bits(2)))
            case 17: lengths += repeatElement(0, count: 3 + (try reader.bits(3)))
            default: lengths += repeatElement(0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw InflateError("code lengths overrun their count at byte \(reader.offset)") }
        guard lengths[256] > 0 else { throw InflateError("a dynamic block without an end-of-block code at byte \(reader.offset)") }
        return (try Huffman(lengths: Array(lengths[..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...])))
    }
}

/// Reads DEFLATE's bit stream: least significant bit first within each byte.
private struct BitReader {
    let bytes: ArraySlice<UInt8>
    var position: Int
    var buffer = 0, count = 0

    init(bytes: ArraySlice<UInt8>) { (self.bytes, self.position) = (bytes, bytes.startIndex) }

    /// The byte the reader is at, from the start of the compressed data.
    var offset: Int { position - bytes.startIndex }

    mutating func bits(_ n: Int) throws(InflateError) -> Int {
        while count < n {
            guard position < bytes.endIndex else { throw InflateError("the compressed data ends early, at byte \(offset)") }
            buffer |= Int(bytes[position]) << count
            position += 1
            count += 8
        }
        let value = buffer & ((1 << n) - 1)
        buffer >>= n
        count -= n
        return value
    }

    /// A stored block: from the next byte boundary, its length, the length's complement, and
    /// that many bytes.
    mutating func storedBlock(into out: inout [UInt8], limit: Int) throws(InflateError) {
        buffer = 0
        count = 0
        guard position + 4 <= bytes.endIndex else { throw InflateError("a stored block's header is cut off at byte \(offset)") }
        let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8
        let complement = Int(bytes[position + 2]) | Int(bytes[position + 3]) << 8
        guard length ^ 0xFFFF == complement else { throw InflateError("a stored block's length \(length) does not match its complement at byte \(offset)") }
        position += 4
        guard position + length <= bytes.endIndex else { throw InflateError("a stored block of \(length) bytes is cut off at byte \(offset)") }
        guard out.count + length <= limit else { throw InflateError("inflates past the declared \(limit) bytes") }
        out += bytes[position..<(position + length)]
        position += length
    }
}

/// A canonical Huffman code from its code lengths, decoded bit by bit against the first code and
/// the symbols of each length.
private struct Huffman {
    /// Symbols of each code length, in canonical order; how many codes each length has.
    var symbols: [Int] = [], counts = [Int](repeating: 0, count: 16)

    init(lengths: [Int]) throws(InflateError) {
        for length in lengths { counts[length] += 1 }
        counts[0] = 0
        // An over-subscribed code cannot be decoded; an incomplete one is allowed (a single
        // distance code, say), its unused codes refused when met.
        var left = 1
        for length in 1..<16 {
            left = left << 1 - counts[length]
            guard left >= 0 else { throw InflateError("an over-subscribed Huffman code") }
        }
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
        symbols = [Int](repeating: 0, count: lengths.count)
        for (symbol, length) in lengths.enumerated() where length > 0 {
            symbols[offsets[length]] = symbol
            offsets[length] += 1
        }
    }

    func decode(_ reader: inout BitReader) throws(InflateError) -> Int {
        var code = 0, first = 0, index = 0
        for length in 1..<16 {
            code |= try reader.bits(1)
            let count = counts[length]
            if code - first < count { return symbols[index + code - first] }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw InflateError("an invalid Huffman code at byte \(reader.offset)")
    }

    static let fixedLiterals = try! Huffman(lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
                                            + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8))
    static let fixedDistances = try! Huffman(lengths: [Int](repeating: 5, count: 30))
}
