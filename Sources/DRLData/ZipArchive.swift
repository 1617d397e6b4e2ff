/// Why a zip archive could not be read: what is wrong, in which member.
public struct ZipArchiveError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A zip archive in memory, read through its central directory: the members' names, and any
/// member's bytes, inflated and checked against its CRC-32. Stored and deflated members are read;
/// a member larger than `maximumMemberBytes` is refused before anything is allocated for it.
struct ZipArchive {
    struct Member {
        let name: String
        let method: Int, crc32: UInt32
        let compressedSize: Int, size: Int
        let localHeaderOffset: Int
    }

    let bytes: [UInt8]
    let members: [Member]
    static let maximumMemberBytes = 256 << 20

    init(bytes: [UInt8]) throws(ZipArchiveError) {
        self.bytes = bytes
        // The end-of-central-directory record: the last signature 0x06054b50 within the final
        // 22 + 65,535 bytes (its comment may be that long).
        var end = -1
        var k = bytes.count - 22
        while k >= max(0, bytes.count - 22 - 65_535) {
            if Self.uint32(bytes, k) == 0x0605_4b50 { end = k; break }
            k -= 1
        }
        guard end >= 0 else { throw ZipArchiveError("not a zip archive: no end-of-central-directory record") }
        let count = Int(Self.uint16(bytes, end + 10)), directorySize = Int(Self.uint32(bytes, end + 12))
        var offset = Int(Self.uint32(bytes, end + 16))
        guard offset + directorySize <= end else { throw ZipArchiveError("the central directory (\(directorySize) bytes at \(offset)) lies outside the archive") }
        var members: [Member] = []
        for index in 0..<count {
            guard offset + 46 <= end, Self.uint32(bytes, offset) == 0x0201_4b50 else {
                throw ZipArchiveError("central directory entry \(index + 1) of \(count) is damaged (at byte \(offset))")
            }
            let nameLength = Int(Self.uint16(bytes, offset + 28)), extraLength = Int(Self.uint16(bytes, offset + 30))
            let commentLength = Int(Self.uint16(bytes, offset + 32))
            guard offset + 46 + nameLength <= end else { throw ZipArchiveError("central directory entry \(index + 1) is cut off") }
            let name = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            members.append(Member(name: name, method: Int(Self.uint16(bytes, offset + 10)), crc32: Self.uint32(bytes, offset + 16),
                                  compressedSize: Int(Self.uint32(bytes, offset + 20)), size: Int(Self.uint32(bytes, offset + 24)),
                                  localHeaderOffset: Int(Self.uint32(bytes, offset + 42))))
            offset += 46 + nameLength + extraLength + commentLength
        }
        self.members = members
    }

    /// The bytes of the member named `name`.
    func contents(of name: String) throws(ZipArchiveError) -> [UInt8] {
        guard let member = members.first(where: { $0.name == name }) else {
            throw ZipArchiveError("the archive has no member '\(name)' (it has \(members.prefix(12).map(\.name).joined(separator: ", "))\(members.count > 12 ? ", …" : ""))")
        }
        guard member.size <= Self.maximumMemberBytes else {
            throw ZipArchiveError("'\(name)' declares \(member.size) bytes, more than the \(Self.maximumMemberBytes) a member may have here")
        }
        let header = member.localHeaderOffset
        guard header + 30 <= bytes.count, Self.uint32(bytes, header) == 0x0403_4b50 else { throw ZipArchiveError("'\(name)': its local header is damaged") }
        let start = header + 30 + Int(Self.uint16(bytes, header + 26)) + Int(Self.uint16(bytes, header + 28))
        guard start + member.compressedSize <= bytes.count else { throw ZipArchiveError("'\(name)': its data is cut off") }
        let data = bytes[start..<(start + member.compressedSize)]
        let contents: [UInt8]
        switch member.method {
        case 0:
            guard member.compressedSize == member.size else { throw ZipArchiveError("'\(name)': stored, yet its sizes differ") }
            contents = Array(data)
        case 8:
            do { contents = try Inflate.decompress(data, size: member.size) } catch { throw ZipArchiveError("'\(name)': \(error)") }
        default:
            throw ZipArchiveError("'\(name)': compression method \(member.method) is not read here (only stored and deflated)")
        }
        let crc = CRC32.checksum(contents)
        guard crc == member.crc32 else {
            throw ZipArchiveError("'\(name)': CRC-32 \(String(crc, radix: 16)) differs from the archive's \(String(member.crc32, radix: 16))")
        }
        return contents
    }

    private static func uint16(_ b: [UInt8], _ k: Int) -> UInt16 { k + 2 <= b.count ? UInt16(b[k]) | UInt16(b[k + 1]) << 8 : 0 }
    private static func uint32(_ b: [UInt8], _ k: Int) -> UInt32 {
        k >= 0 && k + 4 <= b.count ? UInt32(b[k]) | UInt32(b[k + 1]) << 8 | UInt32(b[k + 2]) << 16 | UInt32(b[k + 3]) << 24 : 0
    }
}

/// The CRC-32 of zip and gzip (polynomial 0xEDB88320, reflected).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
