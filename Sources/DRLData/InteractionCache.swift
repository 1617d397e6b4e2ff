#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The binary cache of a logged-interactions file: its action rows (the `impression` rows left
/// out, as `LoggedInteractions.actions()` leaves them) as `UserSequences`, built once and then
/// mapped into memory, not read: a log far bigger than memory trains in the memory of the pages it
/// touches. The cache records the SHA-256 of the file it was built from; `open` checks it against
/// the file as it is and builds the cache again when they differ.
///
/// Building it takes bounded memory too: one pass over the file writes fixed-width records to a
/// scratch file and numbers users and items (their ids are what stays in memory); the records are
/// then scattered into the users' rows a few hundred megabytes of the cache at a time, each user's
/// rows sorted by time (stable: ties keep the file's order), and the cache written beside its
/// destination and renamed over it, so a crash leaves the old cache or none.
///
/// The file: a header (`magic`, the version, the context width; the counts of users, rows, items,
/// and rows left out as impressions, as unknown items and as unreadable; the length of the
/// strings; the digest checked on opening, in hex), the strings (the item ids, the context
/// columns and why the first unreadable row was, each a 32-bit length and its UTF-8), then at the
/// next multiple of 8 the block of columns `UserSequences.Layout` lays out. Everything is checked
/// when it is mapped, so a damaged or hostile cache is rebuilt, never trusted. (A cache is only
/// ever replaced by renaming: one cut short in place under a process that maps it would fault it.)
public enum InteractionCache {
    static let magic = Array("DRLRECUS".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 136

    /// How the file is read: with `items`, items are indexed as in that list (a model's
    /// catalogue) and rows naming other items are left out; with `skippingBadRows`, rows that
    /// cannot be read are left out and counted (a server's own log) instead of stopping the build.
    /// Each way of reading has a cache of its own.
    public struct Reading: Sendable, Equatable {
        public var items: [String]?
        public var skippingBadRows: Bool
        public init(items: [String]? = nil, skippingBadRows: Bool = false) { (self.items, self.skippingBadRows) = (items, skippingBadRows) }

        /// The reading's part of the cache's name and key ("" for the default).
        var key: String {
            guard items != nil || skippingBadRows else { return "" }
            return SHA256.hex(Array(((items?.joined(separator: "\n") ?? "") + (skippingBadRows ? "\u{0}skip" : "\u{0}")).utf8))
        }
    }

    /// What `open` found or made.
    public struct Opened {
        public let sequences: UserSequences
        /// SHA-256 of the source file, which the cache was checked against.
        public let digest: String
        /// Why the cache was built (none yet, the file changed, …); nil when it was used as it was.
        public let builtBecause: String?
        /// The source's `impression` rows, left out.
        public let impressionRows: Int
        /// Rows left out because they name an item outside `Reading.items`.
        public let unknownItemRows: Int
        /// Rows left out because they could not be read (with `Reading.skippingBadRows`), and why the first could not.
        public let badRows: Int, firstBadRow: String?
    }

    /// Where `source`'s cache lives under `directory`: one file per source path and way of
    /// reading it (its name, and a digest of its absolute path and the reading), in `directory/logs`.
    public static func path(for source: String, in directory: String, reading: Reading = Reading()) -> String {
        let absolute = absolutePath(source)
        let name = absolute.split(separator: "/").last.map(String.init) ?? "log"
        return directory + "/logs/" + name + "-" + SHA256.hex(Array((absolute + reading.key).utf8)).prefix(16) + ".sequences"
    }

    static func absolutePath(_ path: String) -> String {
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(path, &resolved) != nil else { return path }
        return String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The action rows of the logged-interactions file `source`, from the cache at `cache`: used
    /// when it was built from the file as it is now, built (again) otherwise. A bad row of the
    /// file is an error with its line, as `LoggedInteractions.read(csv:)` reports it. Building
    /// also removes the caches beside it whose source file is gone (a log in a temporary
    /// directory leaves no cache behind for long), and the scratch files of builds that died.
    public static func load(_ source: String, cache: String, reading: Reading = Reading()) throws(DataFileError) -> Opened {
        try load(source, cache: cache, reading: reading, bytesPerPass: 256 << 20)
    }

    /// `load`, scattering about `bytesPerPass` bytes of the cache per pass over the records.
    static func load(_ source: String, cache: String, reading: Reading, bytesPerPass: Int) throws(DataFileError) -> Opened {
        let before = try status(of: source)
        let (sourceDigest, _) = try SHA256.hex(ofFile: source)
        // What the cache records: the file's digest, or with another reading a digest of both.
        let key = reading.key
        let digest = key.isEmpty ? sourceDigest : SHA256.hex(Array((sourceDigest + key).utf8))
        var reason = "there was no cache"
        if access(cache, F_OK) == 0 {
            switch map(cache, expecting: digest, sourceDigest: sourceDigest) {
            case .success(let opened): return opened
            case .failure(let problem): reason = problem.reason
            }
        }
        try createDirectories(of: cache)
        sweep(besides: cache)
        try build(source, reading: reading, digest: digest, into: cache, bytesPerPass: bytesPerPass)
        guard try status(of: source) == before else {
            unlink(cache)
            throw DataFileError(file: source, line: 0, "the file changed while its cache was being built; run again")
        }
        switch map(cache, expecting: digest, sourceDigest: sourceDigest) {
        case .success(let opened):
            return Opened(sequences: opened.sequences, digest: sourceDigest, builtBecause: reason, impressionRows: opened.impressionRows,
                          unknownItemRows: opened.unknownItemRows, badRows: opened.badRows, firstBadRow: opened.firstBadRow)
        case .failure(let problem):
            throw DataFileError(file: cache, line: 0, "the cache just built does not read back: \(problem.reason)")
        }
    }

    struct Problem: Error { let reason: String }

    /// The cache at `path`, checked against `digest` and for consistency.
    static func map(_ path: String, expecting digest: String, sourceDigest: String) -> Result<Opened, Problem> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Problem(reason: "the cache cannot be opened (\(String(cString: strerror(errno))))")) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(Problem(reason: "the cache cannot be read (\(String(cString: strerror(errno))))")) }
        let size = Int(info.st_size)
        guard size >= headerBytes else { return .failure(Problem(reason: "the cache is \(size) bytes, shorter than its header")) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            return .failure(Problem(reason: "the cache cannot be mapped (\(String(cString: strerror(errno))))"))
        }
        nonisolated(unsafe) let region = mapped
        let unmap: @Sendable () -> Void = { munmap(region, size) }
        let base = UnsafeRawPointer(mapped)
        func fail(_ reason: String) -> Result<Opened, Problem> {
            unmap()
            return .failure(Problem(reason: reason))
        }
        func int64(_ offset: Int) -> Int64 { base.loadUnaligned(fromByteOffset: offset, as: Int64.self) }
        guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == magic else { return fail("the cache does not start with \(String(decoding: magic, as: UTF8.self))") }
        let fileVersion = base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard fileVersion == version else { return fail("the cache is of version \(fileVersion); this DRLRec writes version \(version)") }
        let width = Int(base.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let (users, rows, items, impressions, unknownItems, badRows, stringBytes) = (int64(16), int64(24), int64(32), int64(40), int64(48), int64(56), int64(64))
        let recorded = String(decoding: UnsafeRawBufferPointer(start: base + 72, count: 64), as: UTF8.self)
        guard recorded == digest else { return fail("the file changed since its cache was built (SHA-256 \(recorded.prefix(12))… then, \(digest.prefix(12))… now)") }
        // Bounds before any product: nothing below can overflow.
        guard (0...Int64(Int32.max)).contains(users), (0...(1 << 40)).contains(rows), (0...Int64(Int32.max)).contains(items),
              impressions >= 0, unknownItems >= 0, badRows >= 0, width <= 4096, (0...Int64(size)).contains(stringBytes) else {
            return fail("the cache's header holds impossible counts (\(users) users, \(rows) rows, \(items) items, \(width) context columns)")
        }
        let layout = UserSequences.Layout(users: Int(users), rows: Int(rows), contextWidth: width)
        let bodyOffset = (headerBytes + Int(stringBytes) + 7) / 8 * 8
        guard bodyOffset + layout.byteCount == size else {
            return fail("the cache is \(size) bytes; its header makes it \(bodyOffset + layout.byteCount)")
        }
        var strings: [String] = [], offset = headerBytes
        let end = headerBytes + Int(stringBytes)
        // The source's path, the item ids, the context columns, then why the first bad row could not be read ("" when none).
        for _ in 0..<(1 + Int(items) + width + 1) {
            guard offset + 4 <= end else { return fail("the cache's item ids and context columns run past their \(stringBytes) bytes") }
            let length = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard offset + 4 + length <= end,
                  let text = String(validating: UnsafeRawBufferPointer(start: base + offset + 4, count: length), as: UTF8.self) else {
                return fail("the cache's string at byte \(offset) is cut short or not UTF-8")
            }
            strings.append(text)
            offset += 4 + length
        }
        let itemIds = Array(strings[1..<(1 + Int(items))]), contextColumns = Array(strings[(1 + Int(items))..<(1 + Int(items) + width)])
        let firstBadRow = strings.last!
        guard Set(itemIds).count == itemIds.count, !itemIds.contains("") else { return fail("the cache's item ids are empty or repeated") }
        let sequences = UserSequences(itemIds: itemIds, contextColumns: contextColumns, layout: layout, base: base + bodyOffset, release: unmap)
        if let problem = sequences.problem() { return .failure(Problem(reason: "the cache is damaged: \(problem)")) }
        return .success(Opened(sequences: sequences, digest: sourceDigest, builtBecause: nil, impressionRows: Int(impressions),
                               unknownItemRows: Int(unknownItems), badRows: Int(badRows), firstBadRow: firstBadRow.isEmpty ? nil : firstBadRow))
    }

    /// Writes the cache of `source` to `cache` (see the type's description).
    static func build(_ source: String, reading: Reading, digest: String, into cache: String, bytesPerPass: Int) throws(DataFileError) {
        let scratch = cache + ".rows-\(getpid())"
        defer { unlink(scratch) }
        // Pass 1: fixed-width records (time, user, item, value, context, event) in the file's order.
        let records = try ChunkedFile(writing: scratch)
        var userIndex: [String: Int32] = [:], itemIndex: [String: Int32] = [:], itemIds: [String] = [], counts: [Int64] = []
        var contextColumns: [String] = [], impressions = 0, unknownItems = 0
        for item in reading.items ?? [] where itemIndex[item] == nil {
            itemIndex[item] = Int32(itemIds.count)
            itemIds.append(item)
        }
        let (badRows, _) = try LoggedInteractions.forEachRow(csv: source, skippingBadRows: reading.skippingBadRows,
                                                             header: { contextColumns = $0 }) { row throws(DataFileError) in
            guard row.event != .impression else { impressions += 1; return }
            let user: Int32, item: Int32
            if let known = itemIndex[row.item] { item = known } else {
                guard reading.items == nil else { unknownItems += 1; return }
                guard itemIds.count < Int(Int32.max) else { throw DataFileError(file: source, line: 0, "has more than \(Int32.max) items") }
                item = Int32(itemIds.count)
                itemIndex[row.item] = item
                itemIds.append(row.item)
            }
            if let known = userIndex[row.user] { user = known } else {
                guard counts.count < Int(Int32.max) else { throw DataFileError(file: source, line: 0, "has more than \(Int32.max) users") }
                user = Int32(counts.count)
                userIndex[row.user] = user
                counts.append(0)
            }
            counts[Int(user)] += 1
            try records.append(row.timestamp)
            try records.append(user)
            try records.append(item)
            try records.append(row.value)
            for value in row.context { try records.append(value) }
            try records.append(UInt8(row.event.rawValue))
        }
        try records.finish()
        userIndex = [:]
        itemIndex = [:]
        let width = contextColumns.count, recordBytes = 21 + 4 * width
        let rows = Int(counts.reduce(0, +))
        let layout = UserSequences.Layout(users: counts.count, rows: rows, contextWidth: width)

        // The header and strings, then the block, in a file beside the destination.
        var header = magic
        func put<T>(_ value: T) { withUnsafeBytes(of: value) { header += $0 } }
        put(version)
        put(UInt32(width))
        var strings: [UInt8] = []
        for text in [absolutePath(source)] + itemIds + contextColumns + [badRows.first.map { "\($0.error)" } ?? ""] {
            withUnsafeBytes(of: UInt32(text.utf8.count)) { strings += $0 }
            strings += text.utf8
        }
        for value in [counts.count, rows, itemIds.count, impressions, unknownItems, badRows.count, strings.count] { put(Int64(value)) }
        header += Array(digest.utf8)
        header += strings
        let bodyOffset = (header.count + 7) / 8 * 8
        header += [UInt8](repeating: 0, count: bodyOffset - header.count)
        let temporary = cache + ".tmp-\(getpid())"
        let output = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw DataFileError(file: temporary, line: 0, "cannot create the cache (\(String(cString: strerror(errno))))") }
        var renamed = false
        defer {
            close(output)
            if !renamed { unlink(temporary) }
        }
        let size = bodyOffset + layout.byteCount
        guard ftruncate(output, off_t(size)) == 0 else {
            throw DataFileError(file: temporary, line: 0, "cannot make the cache \(size) bytes (\(String(cString: strerror(errno))))")
        }
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, output, 0), mapped != MAP_FAILED else {
            throw DataFileError(file: temporary, line: 0, "cannot map the cache (\(String(cString: strerror(errno))))")
        }
        defer { munmap(mapped, size) }
        header.withUnsafeBytes { mapped.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let body = mapped + bodyOffset
        func column<T>(_ offset: Int, _: T.Type) -> UnsafeMutablePointer<T> { (body + offset).bindMemory(to: T.self, capacity: 1) }
        let starts = column(layout.userStarts, Int64.self), times = column(layout.timestamps, Int64.self)
        let itemColumn = column(layout.items, Int32.self), values = column(layout.values, Float.self)
        let context = column(layout.context, Float.self), events = column(layout.events, UInt8.self)
        var next = [Int64](repeating: 0, count: counts.count)
        var total: Int64 = 0
        for (user, count) in counts.enumerated() {
            starts[user] = total
            next[user] = total
            total += count
        }
        starts[counts.count] = total
        counts = []

        // Pass 2, a range of users at a time: their records into their rows, each user's rows
        // sorted by time; the range's pages are then written out and let go.
        let rowsPerPass = max(1, bytesPerPass / (21 + 4 * width))
        var first = 0
        var order: [Int] = [], timeScratch: [Int64] = [], intScratch: [Int32] = [], floatScratch: [Float] = [], byteScratch: [UInt8] = []
        while first < layout.users {
            var last = first + 1
            while last < layout.users, starts[last + 1] - starts[first] <= Int64(rowsPerPass) { last += 1 }
            let range = Int32(first)..<Int32(last)
            try ChunkedFile.forEachRecord(of: scratch, bytes: recordBytes) { record in
                let user = record.loadUnaligned(fromByteOffset: 8, as: Int32.self)
                guard range.contains(user) else { return }
                let row = Int(next[Int(user)])
                next[Int(user)] += 1
                times[row] = record.loadUnaligned(as: Int64.self)
                itemColumn[row] = record.loadUnaligned(fromByteOffset: 12, as: Int32.self)
                values[row] = record.loadUnaligned(fromByteOffset: 16, as: Float.self)
                for j in 0..<width { context[row * width + j] = record.loadUnaligned(fromByteOffset: 20 + 4 * j, as: Float.self) }
                events[row] = record.load(fromByteOffset: 20 + 4 * width, as: UInt8.self)
            }
            for user in first..<last {
                let lower = Int(starts[user]), upper = Int(starts[user + 1])
                guard (lower..<upper).dropFirst().contains(where: { times[$0] < times[$0 - 1] }) else { continue }
                // Stable: the file's order breaks ties.
                order = (lower..<upper).sorted { (times[$0], $0) < (times[$1], $1) }
                func permute<T>(_ column: UnsafeMutablePointer<T>, _ scratch: inout [T], width: Int = 1) {
                    scratch.removeAll(keepingCapacity: true)
                    for row in order { for j in 0..<width { scratch.append(column[row * width + j]) } }
                    for (k, value) in scratch.enumerated() { column[lower * width + k] = value }
                }
                permute(times, &timeScratch)
                permute(itemColumn, &intScratch)
                permute(values, &floatScratch)
                permute(context, &floatScratch, width: width)
                permute(events, &byteScratch)
            }
            // Written to the file and dropped from this process: memory stays at one range's pages.
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            for (offset, stride) in [(layout.timestamps, 8), (layout.items, 4), (layout.values, 4), (layout.context, 4 * width), (layout.events, 1)] {
                let from = (bodyOffset + offset + Int(starts[first]) * stride) / pageSize * pageSize
                let to = bodyOffset + offset + Int(starts[last]) * stride
                guard to > from else { continue }
                guard msync(mapped + from, to - from, MS_SYNC) == 0 else {
                    throw DataFileError(file: temporary, line: 0, "writing the cache failed (\(String(cString: strerror(errno))))")
                }
                madvise(mapped + from, to - from, MADV_DONTNEED)
            }
            first = last
        }
        guard msync(mapped, size, MS_SYNC) == 0, fsync(output) == 0 else {
            throw DataFileError(file: temporary, line: 0, "writing the cache failed (\(String(cString: strerror(errno))))")
        }
        guard rename(temporary, cache) == 0 else {
            throw DataFileError(file: cache, line: 0, "cannot put the cache in place (\(String(cString: strerror(errno))))")
        }
        renamed = true
    }

    /// Removes the caches in `cache`'s directory whose source file no longer exists, and the
    /// scratch and temporary files of builds whose process is gone.
    static func sweep(besides cache: String) {
        let directory = String(cache[..<(cache.lastIndex(of: "/") ?? cache.startIndex)])
        guard let listing = opendir(directory.isEmpty ? "." : directory) else { return }
        defer { closedir(listing) }
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let path = (directory.isEmpty ? "" : directory + "/") + name
            if let range = name.range(of: ".sequences.", options: .backwards) {
                // name.sequences.rows-PID or .tmp-PID: a build's; its process gone, it is litter.
                let pid = name[range.upperBound...].split(separator: "-").last.flatMap { Int32($0) }
                if let pid, kill(pid, 0) != 0 && errno == ESRCH { unlink(path) }
            } else if name.hasSuffix(".sequences"), path != cache, let source = sourcePath(ofCache: path), access(source, F_OK) != 0 {
                unlink(path)
            }
        }
    }

    /// The source path a cache records (its first string), or nil when the file is not a cache.
    private static func sourcePath(ofCache path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: headerBytes + 4)
        guard fread(&head, 1, head.count, file) == head.count, Array(head[..<8]) == magic else { return nil }
        let length = head[headerBytes..<(headerBytes + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        guard length > 0, length <= 1 << 16 else { return nil }
        var text = [UInt8](repeating: 0, count: Int(length))
        guard fread(&text, 1, text.count, file) == text.count else { return nil }
        return String(validating: text, as: UTF8.self)
    }

    /// The size and modification time of `path`, to notice a file that changes under the build.
    private static func status(of path: String) throws(DataFileError) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw DataFileError(file: path, line: 0, "cannot open the file (\(String(cString: strerror(errno))))") }
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        return [Int(info.st_size), Int(modified.tv_sec), Int(modified.tv_nsec)]
    }

    /// Creates the directories above `path` that do not exist.
    private static func createDirectories(of path: String) throws(DataFileError) {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw DataFileError(file: directory, line: 0, "cannot create the cache's directory (\(error.localizedDescription))")
        }
    }
}

/// A scratch file of fixed-width records, written and read a megabyte at a time.
private final class ChunkedFile {
    let path: String
    var fd: Int32
    var buffer: [UInt8] = []

    init(writing path: String) throws(DataFileError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DataFileError(file: path, line: 0, "cannot create a scratch file (\(String(cString: strerror(errno))))") }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { if fd >= 0 { close(fd) } }

    func append<T>(_ value: T) throws(DataFileError) {
        withUnsafeBytes(of: value) { buffer += $0 }
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws(DataFileError) {
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw DataFileError(file: path, line: 0, "writing a scratch file failed (\(String(cString: strerror(errno))))") }
            written += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws(DataFileError) {
        try flush()
        close(fd)
        fd = -1
    }

    /// Calls `body` with each record of `bytes` bytes of the file at `path`, in order.
    static func forEachRecord(of path: String, bytes: Int, _ body: (UnsafeRawPointer) -> Void) throws(DataFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataFileError(file: path, line: 0, "cannot open a scratch file (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        let capacity = max(1, (4 << 20) / bytes) * bytes
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { chunk.deallocate() }
        var filled = 0
        while true {
            let n = read(fd, chunk + filled, capacity - filled)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw DataFileError(file: path, line: 0, "reading a scratch file failed (\(String(cString: strerror(errno))))") }
            filled += n
            let whole = filled / bytes * bytes
            var offset = 0
            while offset < whole {
                body(UnsafeRawPointer(chunk + offset))
                offset += bytes
            }
            if whole < filled { (chunk).copyMemory(from: chunk + whole, byteCount: filled - whole) }
            filled -= whole
            if n == 0 { break }
        }
        guard filled == 0 else { throw DataFileError(file: path, line: 0, "a scratch file ends in a partial record") }
    }
}
