import DRLTensor
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if _endian(big)
#error("DRLNN checkpoints copy Float32 bytes as they are in memory, which requires a little-endian host")
#endif

/// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), Float32 only.
///
/// A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor
/// name to `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (plus an optional
/// `"__metadata__"` object of strings), then the tensors' little-endian bytes, contiguous and in
/// the order written. Files written here are read by Python's `safetensors` and the reverse.
///
/// Writes are atomic: a failed write leaves the previous file as it was. Reads validate the whole
/// header and the file length before returning anything, and every error names the file and the
/// tensor and field at fault.
public enum SafeTensors {
    /// Largest header accepted on read, in bytes (the limit of the reference implementation).
    public static let maxHeaderLength = 100_000_000
    /// The key of the optional string-to-string metadata object in the header.
    public static let metadataKey = "__metadata__"

    /// Writes `tensors` in the given order, with `metadata`, to `path`, atomically.
    ///
    /// The file is written to a uniquely named temporary file in the same directory, synced,
    /// renamed over `path` and the directory is synced. On any failure before the rename the
    /// temporary file is removed and an existing file at `path` is left untouched; if only the
    /// final directory sync fails, the new file is in place and the error says so. Names must be
    /// non-empty, unique and not `"__metadata__"`; NaN and infinite values are stored as they are.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to path: String) throws(CheckpointError) {
        try write(tensors, metadata: metadata, to: path, failingAt: nil)
    }

    /// Reads every tensor and the metadata of the checkpoint at `path`.
    ///
    /// Tensors are returned in file order (by data offset; empty tensors at the same offset are
    /// ordered by name). JSON key order does not matter.
    public static func read(from path: String) throws(CheckpointError)
        -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String])
    {
        let file = try ReadableFile(path: path)
        defer { file.close() }
        let header = try parseHeader(of: file)
        var tensors: [(name: String, tensor: Tensor)] = []
        tensors.reserveCapacity(header.entries.count)
        for entry in header.entries {
            var tensor = Tensor(zeros: Shape(entry.shape))
            try readData(of: entry, from: file, header: header, into: &tensor)
            tensors.append((entry.name, tensor))
        }
        return (tensors, header.metadata)
    }

    /// The names and shapes of the checkpoint's tensors (in file order) and its metadata, from the
    /// header alone: the data is not read (it is still checked to lie within the file).
    public static func describe(_ path: String) throws(CheckpointError)
        -> (tensors: [(name: String, shape: [Int])], metadata: [String: String])
    {
        let file = try ReadableFile(path: path)
        defer { file.close() }
        let header = try parseHeader(of: file)
        return (header.entries.map { ($0.name, $0.shape) }, header.metadata)
    }

    /// Reads the checkpoint at `path` into existing tensors, matched by name.
    ///
    /// The checkpoint must hold exactly the destinations' names (or, with `ignoringOthers`, at
    /// least them: a part of a larger file), each with exactly the destination's shape; all of
    /// this, and the file itself, is checked before any destination is written. Each destination
    /// must be a workspace tensor (`Tensor(workspace:)`, such as a
    /// `Parameter`'s value, or a view of one): its storage is written in place. Only an I/O error
    /// while reading the data (or the file changing underneath) can leave destinations partly
    /// loaded.
    public static func load(from path: String, into destinations: [(name: String, tensor: Tensor)], ignoringOthers: Bool = false)
        throws(CheckpointError)
    {
        var seen = Set<String>()
        for (name, tensor) in destinations {
            require(tensor.isWorkspace,
                    "SafeTensors.load: destination '\(name)' is not a workspace tensor, so writing it would not update the caller's tensor")
            guard seen.insert(name).inserted else {
                throw CheckpointError(path: path, reason: .invalidName(name, detail: "appears more than once among the destinations"))
            }
        }
        let file = try ReadableFile(path: path)
        defer { file.close() }
        let header = try parseHeader(of: file)

        var stored: [String: HeaderEntry] = [:]
        for entry in header.entries { stored[entry.name] = entry }
        let missing = destinations.map(\.name).filter { stored[$0] == nil }
        let unexpected = ignoringOthers ? [] : header.entries.map(\.name).filter { !seen.contains($0) }
        guard missing.isEmpty && unexpected.isEmpty else {
            throw CheckpointError(path: path, reason: .tensorNamesMismatch(missing: missing, unexpected: unexpected))
        }
        for (name, tensor) in destinations where stored[name]!.shape != tensor.shape.dimensions {
            throw CheckpointError(path: path, reason: .shapeMismatch(name: name, expected: tensor.shape.dimensions,
                                                                     found: stored[name]!.shape))
        }
        for (name, tensor) in destinations {
            var destination = tensor  // a workspace view: writes reach the caller's storage
            try readData(of: stored[name]!, from: file, header: header, into: &destination)
        }
    }
}

// MARK: - Errors

/// Why a checkpoint could not be written, read or loaded, and which file it was.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    /// What is wrong with the file or the load.
    public enum Reason: Equatable, Sendable {
        /// A system call failed (the message names the operation and the system's reason).
        case io(String)
        /// The file ends before the data the header describes; `name` is the first tensor cut
        /// short (nil when the file is too short for the length prefix or the header).
        case truncated(name: String?, expected: Int, actual: Int)
        /// The file has bytes after the last tensor's data.
        case oversized(expected: Int, actual: Int)
        /// The header length field exceeds `SafeTensors.maxHeaderLength` (or, on write, the header would).
        case headerTooLarge(length: UInt64, limit: Int)
        /// The header length field exceeds the bytes that follow the 8-byte prefix.
        case headerExceedsFile(length: UInt64, available: Int)
        /// The header is not UTF-8, not JSON, or not a JSON object.
        case invalidHeader(String)
        /// An entry or one of its fields is malformed (`field` is nil when the whole entry is).
        /// Metadata problems use the name `"__metadata__"`.
        case invalidEntry(name: String, field: String?, detail: String)
        /// A dtype other than "F32".
        case unsupportedDtype(name: String, dtype: String)
        /// `data_offsets` are malformed, disagree with the shape, or do not tile the data section.
        case offsetsInconsistent(name: String, detail: String)
        /// `load`: the stored shape (`found`) differs from the destination's (`expected`).
        case shapeMismatch(name: String, expected: [Int], found: [Int])
        /// `load`: destinations absent from the file, and stored tensors with no destination.
        case tensorNamesMismatch(missing: [String], unexpected: [String])
        /// `write` or `load`: a name that is empty, reserved or repeated.
        case invalidName(String, detail: String)
    }

    /// The checkpoint file.
    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "safetensors checkpoint '\(path)': \(reason)" }
}

extension CheckpointError.Reason: CustomStringConvertible {
    public var description: String {
        func quoted(_ names: [String]) -> String { names.map { "'\($0)'" }.joined(separator: ", ") }
        func subject(_ name: String) -> String {
            name == SafeTensors.metadataKey ? "metadata ('\(name)')" : "tensor '\(name)'"
        }
        switch self {
        case .io(let message):
            return "I/O error: \(message)"
        case .truncated(let name, let expected, let actual):
            let which = name.map { "; the data of tensor '\($0)' extends past the end of the file" } ?? ""
            return "file is truncated: it has \(actual) bytes but needs \(expected)\(which)"
        case .oversized(let expected, let actual):
            return "file is oversized: it has \(actual) bytes but the header accounts for \(expected) (\(actual - expected) trailing bytes after the last tensor's data)"
        case .headerTooLarge(let length, let limit):
            return "header length field is \(length) bytes, over the limit of \(limit)"
        case .headerExceedsFile(let length, let available):
            return "header length field is \(length) bytes but only \(available) bytes follow the 8-byte length prefix"
        case .invalidHeader(let detail):
            return "invalid header: \(detail)"
        case .invalidEntry(let name, let field, let detail):
            return "\(subject(name))\(field.map { ", field '\($0)'" } ?? ""): \(detail)"
        case .unsupportedDtype(let name, let dtype):
            return "tensor '\(name)', field 'dtype': dtype \"\(dtype)\" is not supported (only \"F32\" is)"
        case .offsetsInconsistent(let name, let detail):
            return "tensor '\(name)', field 'data_offsets': \(detail)"
        case .shapeMismatch(let name, let expected, let found):
            return "tensor '\(name)', field 'shape': the checkpoint has shape \(found) but the destination has shape \(expected)"
        case .tensorNamesMismatch(let missing, let unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing from the file: \(quoted(missing))") }
            if !unexpected.isEmpty { parts.append("in the file but not expected: \(quoted(unexpected))") }
            return "tensor names do not match the destinations; " + parts.joined(separator: "; ")
        case .invalidName(let name, let detail):
            return "tensor name '\(name)' \(detail)"
        }
    }
}

// MARK: - Writing

extension SafeTensors {
    /// Points at which a test can make `write` fail, to check that failures clean up.
    enum InjectedFailure { case afterData, beforeRename }

    static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String], to path: String,
                      failingAt injected: InjectedFailure?) throws(CheckpointError) {
        func fail(_ reason: CheckpointError.Reason) -> CheckpointError { CheckpointError(path: path, reason: reason) }

        // Validate everything before touching the file system.
        var names = Set<String>()
        for (name, _) in tensors {
            if name.isEmpty { throw fail(.invalidName(name, detail: "is empty")) }
            if name == metadataKey { throw fail(.invalidName(name, detail: "is reserved for the metadata")) }
            if !names.insert(name).inserted { throw fail(.invalidName(name, detail: "appears more than once")) }
        }
        let prefixAndHeader = encodeHeader(tensors, metadata: metadata)
        guard prefixAndHeader.count - 8 <= maxHeaderLength else {
            throw fail(.headerTooLarge(length: UInt64(prefixAndHeader.count - 8), limit: maxHeaderLength))
        }

        let (directory, prefix, base) = splitPath(path)
        guard !base.isEmpty else { throw fail(.io("the path names a directory, not a file")) }

        // Create a temporary file next to the destination, so that rename is atomic.
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            temporary = prefix + ".\(base).tmp-\(getpid())-\(suffix)"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw fail(.io("cannot create a temporary file in '\(directory)': \(systemError())")) }

        var isOpen = true
        var renamed = false
        defer {
            if isOpen { _ = posixClose(fd) }
            if !renamed { unlink(temporary) }
        }

        if let error = writeAll(fd, prefixAndHeader) {
            throw fail(.io("writing the header to '\(temporary)' failed: \(error)"))
        }
        for (name, tensor) in tensors where tensor.count > 0 {
            let error = tensor.withUnsafeBufferPointer { writeAll(fd, UnsafeRawBufferPointer($0)) }
            if let error { throw fail(.io("writing the data of tensor '\(name)' to '\(temporary)' failed: \(error)")) }
        }
        if injected == .afterData { throw fail(.io("injected failure after writing the data")) }
        if fsync(fd) != 0 { throw fail(.io("fsync of '\(temporary)' failed: \(systemError())")) }
        isOpen = false
        if posixClose(fd) != 0 { throw fail(.io("closing '\(temporary)' failed: \(systemError())")) }
        if injected == .beforeRename { throw fail(.io("injected failure before the rename")) }
        if rename(temporary, path) != 0 {
            throw fail(.io("renaming '\(temporary)' to '\(path)' failed: \(systemError())"))
        }
        renamed = true

        // Make the rename durable. Some file systems cannot sync a directory (EINVAL): nothing to do.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else {
            throw fail(.io("the checkpoint was written, but opening its directory '\(directory)' to sync it failed: \(systemError())"))
        }
        defer { _ = posixClose(directoryFD) }
        if fsync(directoryFD) != 0 && errno != EINVAL {
            throw fail(.io("the checkpoint was written, but syncing its directory '\(directory)' failed: \(systemError())"))
        }
    }

    /// The 8-byte length prefix and the JSON header, padded with spaces so that the data section
    /// starts at a multiple of 8 bytes. Layout as Python's safetensors writes it: metadata first,
    /// then the tensors in data order, no whitespace.
    static func encodeHeader(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var first = true
        func separator() { if !first { json += "," }; first = false }
        if !metadata.isEmpty {
            separator()
            json += JSONText.string(metadataKey) + ":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { JSONText.string($0.key) + ":" + JSONText.string($0.value) }.joined(separator: ",")
            json += "}"
        }
        var offset = 0
        for (name, tensor) in tensors {
            let end = offset + tensor.count * MemoryLayout<Float>.size
            separator()
            json += JSONText.string(name) + ":{\"dtype\":\"F32\",\"shape\":["
                + tensor.shape.dimensions.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        return bytes
    }

    /// The directory of `path` (to sync), `path` up to and including its last slash (to prefix the
    /// temporary file's name) and the file name.
    static func splitPath(_ path: String) -> (directory: String, prefix: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", "", path) }
        let directory = String(path[..<slash])
        let afterSlash = path.index(after: slash)
        return (directory.isEmpty ? "/" : directory, String(path[..<afterSlash]), String(path[afterSlash...]))
    }
}

/// Writes all of `bytes`, retrying short writes and interruptions; the error message on failure.
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
    var done = 0
    while done < bytes.count {
        let n = posixWrite(fd, bytes.baseAddress! + done, min(bytes.count - done, 1 << 30))
        if n < 0 {
            if errno == EINTR { continue }
            return systemError()
        }
        done += n
    }
    return nil
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBytes { writeAll(fd, $0) }
}

private func systemError() -> String {
    let code = errno
    return "\(String(cString: strerror(code))) (errno \(code))"
}

// `ReadableFile.close()` and `ReadableFile.read` hide the C functions inside the type: name them.
#if canImport(Glibc)
private let posixClose = Glibc.close
private let posixWrite = Glibc.write
private let posixPread = Glibc.pread
#elseif canImport(Darwin)
private let posixClose = Darwin.close
private let posixWrite = Darwin.write
private let posixPread = Darwin.pread
#endif

// MARK: - Reading

/// One validated header entry.
struct HeaderEntry {
    var name: String
    var shape: [Int]
    var begin: Int
    var end: Int
}

/// A validated header: entries in file order, and where the data section starts.
struct Header {
    var entries: [HeaderEntry]
    var metadata: [String: String]
    var dataStart: Int
}

/// A file open for reading, with its length at the time it was opened.
struct ReadableFile {
    let path: String
    let fd: Int32
    let length: Int

    init(path: String) throws(CheckpointError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError(path: path, reason: .io("cannot open the file: \(systemError())")) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = systemError()
            _ = posixClose(fd)
            throw CheckpointError(path: path, reason: .io("cannot stat the file: \(message)"))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            _ = posixClose(fd)
            throw CheckpointError(path: path, reason: .io("not a regular file"))
        }
        length = Int(info.st_size)
    }

    func close() { _ = posixClose(fd) }

    /// Reads `buffer.count` bytes at `offset`; the number of bytes read (fewer at end of file) or
    /// the error message.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Result<Int, IOFailure> {
        var done = 0
        while done < buffer.count {
            let n = posixPread(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30),
                                         off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(IOFailure(message: systemError()))
            }
            if n == 0 { break }
            done += n
        }
        return .success(done)
    }

    struct IOFailure: Error { var message: String }
}

extension SafeTensors {
    /// Reads and validates the header: the JSON, every entry, the tiling of the data section by
    /// the entries' offsets and the file length.
    static func parseHeader(of file: ReadableFile) throws(CheckpointError) -> Header {
        let path = file.path
        func fail(_ reason: CheckpointError.Reason) -> CheckpointError { CheckpointError(path: path, reason: reason) }

        guard file.length >= 8 else {
            throw fail(.truncated(name: nil, expected: 8, actual: file.length))
        }
        var prefix: UInt64 = 0
        let prefixRead = withUnsafeMutableBytes(of: &prefix) { file.read(into: $0, at: 0) }
        guard case .success(8) = prefixRead else { throw readFailure(prefixRead, path: path, offset: 0, expected: 8) }
        let headerLength = UInt64(littleEndian: prefix)
        guard headerLength <= UInt64(maxHeaderLength) else {
            throw fail(.headerTooLarge(length: headerLength, limit: maxHeaderLength))
        }
        guard headerLength <= UInt64(file.length - 8) else {
            throw fail(.headerExceedsFile(length: headerLength, available: file.length - 8))
        }
        let n = Int(headerLength)
        var headerBytes = [UInt8](repeating: 0, count: n)
        let headerRead = headerBytes.withUnsafeMutableBytes { file.read(into: $0, at: 8) }
        guard case .success(n) = headerRead else { throw readFailure(headerRead, path: path, offset: 8, expected: n) }

        // Decode.
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail(.invalidHeader("the header is not valid UTF-8"))
        }
        // The strict parser first: it says where a syntax error is, and refuses a tensor or
        // metadata name given twice (JSONDecoder keeps the last without a word).
        do { _ = try JSONParser.parse(headerBytes) } catch { throw fail(.invalidHeader("the header is not valid JSON (\(error))")) }
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: Data(headerBytes))
        } catch let error as DecodingError {
            throw fail(reason(for: error))
        } catch {
            throw fail(.invalidHeader("the header is not valid JSON: \(error)"))
        }

        // Validate each entry (in name order, so that the error reported does not depend on JSON key order).
        var entries: [HeaderEntry] = []
        for (name, entry) in raw.entries.sorted(by: { $0.name < $1.name }) {
            let shape = entry.shape.map(\.value), offsets = entry.data_offsets.map(\.value)
            guard entry.dtype == "F32" else { throw fail(.unsupportedDtype(name: name, dtype: entry.dtype)) }
            guard shape.count <= Shape.maxRank else {
                throw fail(.invalidEntry(name: name, field: "shape",
                                         detail: "rank \(shape.count) is over DRLTensor's maximum of \(Shape.maxRank)"))
            }
            var count = 1
            for (axis, d) in shape.enumerated() {
                guard d >= 0 else {
                    throw fail(.invalidEntry(name: name, field: "shape", detail: "dimension \(axis) is negative (\(d))"))
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail(.invalidEntry(name: name, field: "shape", detail: "\(shape) has too many elements")) }
                count = product
            }
            guard offsets.count == 2 else {
                throw fail(.offsetsInconsistent(name: name, detail: "has \(offsets.count) values; expected 2 ([begin, end])"))
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0 && end >= 0 else {
                throw fail(.offsetsInconsistent(name: name, detail: "\(offsets) has a negative offset"))
            }
            guard begin <= end else {
                throw fail(.offsetsInconsistent(name: name, detail: "\(offsets) ends before it begins"))
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
            guard !overflow && end - begin == bytes else {
                throw fail(.offsetsInconsistent(
                    name: name, detail: "\(offsets) spans \(end - begin) bytes but shape \(shape) of F32 needs \(count) × 4 bytes"))
            }
            entries.append(HeaderEntry(name: name, shape: shape, begin: begin, end: end))
        }

        // The entries must tile the data section: sorted, from 0, no gaps, no overlaps.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        var previous: HeaderEntry?
        for entry in entries {
            if entry.begin > position {
                let after = previous.map { "the end of tensor '\($0.name)'" } ?? "the start of the data section"
                throw fail(.offsetsInconsistent(
                    name: entry.name,
                    detail: "[\(entry.begin), \(entry.end)] leaves a gap of \(entry.begin - position) bytes after \(after) (byte \(position))"))
            }
            if entry.begin < position, let previous {
                throw fail(.offsetsInconsistent(
                    name: entry.name,
                    detail: "[\(entry.begin), \(entry.end)] overlaps tensor '\(previous.name)' ([\(previous.begin), \(previous.end)])"))
            }
            position = entry.end
            previous = entry
        }

        // The data section must be exactly as long as the tensors need.
        let dataStart = 8 + n
        let dataLength = file.length - dataStart
        if dataLength < position {
            let cut = entries.first { $0.end > dataLength }!
            throw fail(.truncated(name: cut.name, expected: dataStart + position, actual: file.length))
        }
        if dataLength > position {
            throw fail(.oversized(expected: dataStart + position, actual: file.length))
        }
        return Header(entries: entries, metadata: raw.metadata, dataStart: dataStart)
    }

    /// Reads the data of `entry` into `tensor` (same element count).
    static func readData(of entry: HeaderEntry, from file: ReadableFile, header: Header, into tensor: inout Tensor)
        throws(CheckpointError)
    {
        let bytes = entry.end - entry.begin
        guard bytes > 0 else { return }
        let result = tensor.withUnsafeMutableBufferPointer {
            file.read(into: UnsafeMutableRawBufferPointer($0), at: header.dataStart + entry.begin)
        }
        guard case .success(bytes) = result else {
            switch result {
            case .success(let got):
                // The file was shortened after its length was checked.
                throw CheckpointError(path: file.path, reason: .truncated(
                    name: entry.name, expected: header.dataStart + entry.end, actual: header.dataStart + entry.begin + got))
            case .failure(let failure):
                throw CheckpointError(path: file.path, reason: .io("reading the data of tensor '\(entry.name)' failed: \(failure.message)"))
            }
        }
    }

    /// The error for a short or failed read of `expected` bytes at `offset` of the header region.
    private static func readFailure(_ result: Result<Int, ReadableFile.IOFailure>, path: String, offset: Int,
                                    expected: Int) -> CheckpointError {
        switch result {
        case .success(let got):  // the file was shortened after its length was checked
            return CheckpointError(path: path, reason: .truncated(name: nil, expected: offset + expected, actual: offset + got))
        case .failure(let failure):
            return CheckpointError(path: path, reason: .io("reading the header failed: \(failure.message)"))
        }
    }

    /// Turns a JSON decoding error into the entry and field it concerns.
    static func reason(for error: DecodingError) -> CheckpointError.Reason {
        let path: [any CodingKey]
        let detail: String
        switch error {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            detail = "expected \(describe(type))"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            detail = "expected \(describe(type)), found null"
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
            detail = "is missing"
        case .dataCorrupted(let context):
            path = context.codingPath
            detail = context.debugDescription
        @unknown default:
            return .invalidHeader("\(error)")
        }
        guard let first = path.first else { return .invalidHeader("the header must be a JSON object (\(detail))") }
        var field = ""
        for key in path.dropFirst() {
            if let index = key.intValue { field += "[\(index)]" } else { field += (field.isEmpty ? "" : ".") + key.stringValue }
        }
        return .invalidEntry(name: first.stringValue, field: field.isEmpty ? nil : field, detail: detail)
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: return "an integer"
        case is String.Type: return "a string"
        case is [RawHeader.Integer].Type: return "an array of integers"
        case is [String: String].Type: return "an object of strings"
        default: return "an object"
        }
    }
}

/// The header as JSON, before validation.
private struct RawHeader: Decodable {
    struct Entry: Decodable {
        var dtype: String
        var shape: [Integer]
        var data_offsets: [Integer]
    }

    /// A JSON integer. (Decoding `Int` directly reports a fraction or an overflow without saying where.)
    struct Integer: Decodable {
        var value: Int

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let number = try container.decode(Double.self)
            guard number == number.rounded(), Swift.abs(number) < 0x1p63 else {
                throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath,
                                                        debugDescription: "\(number) is not an integer in range"))
            }
            value = (try? container.decode(Int.self)) ?? Int(number)
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var entries: [(name: String, entry: Entry)] = []
    var metadata: [String: String] = [:]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if key.stringValue == SafeTensors.metadataKey {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
            }
        }
    }
}
