import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only CSV log with a fixed header, durable before acknowledgement as its `Durability`
/// says: by default `append` returns only after the line is on disk (fsync), and concurrent
/// appends are committed in groups, one write and one fsync for every line waiting, so that
/// throughput does not stop at one line per disk flush. The feedback and impression logs are two
/// of them.
///
/// A crash can leave at most an incomplete last line, from an append that was never acknowledged;
/// opening the log cuts it off.
public final class AppendOnlyLog: @unchecked Sendable {
    /// What an acknowledged append survives.
    public enum Durability: Sendable, Equatable {
        /// A crash of the machine (power loss, kernel panic): the line is on disk (fsync) before
        /// `append` returns, through the log's commit thread.
        case synced
        /// A crash of the process (kill -9 included): the line is handed to the kernel (write)
        /// before `append` returns, on the caller's thread, and the file is flushed to disk every
        /// `flushInterval`, which bounds what a crash of the machine can lose. The write of one
        /// append costs a few microseconds where a commit through the thread costs a disk flush,
        /// shared by the appends waiting together, and two thread switches.
        case written(flushInterval: Duration)
    }
    public let path: String
    /// What the log holds, for messages ("feedback log").
    public let name: String
    public let durability: Durability
    /// The header line the file has (newline included).
    public private(set) var header: String
    private let fd: Int32
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    private var closed = false
    /// The file's size and the lines appended since it was opened, counting acknowledged appends.
    private var committed = (bytes: 0, appendedLines: 0)
    /// `written`: the size the last flush reached.
    private var flushed = 0
    /// The first failure after which the file can no longer be trusted, and every later append
    /// fails with it: a failed flush (the kernel may have dropped lines it had acknowledged), or a
    /// failed write the log could not cut back (the next line would continue its fragment). A
    /// restart cuts the fragment off at open.
    private var poison: Failure?
    /// The system calls that write and cut the file; tests replace them to make one fail.
    var writeFile: (Int32, [UInt8], String) throws(DurableFile.Failure) -> Void = { try DurableFile.writeAll($0, $1, path: $2) }
    var truncateFile: (Int32, off_t) -> Int32 = { ftruncate($0, $1) }

    /// Why an append did not reach the disk (the log names its file and the system's reason).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens the log at `path`, creating it with `header` (a line, newline included) when missing.
    /// An existing log must have that header or one of `earlierHeaders` (a log written before
    /// its format grew keeps its own).
    public init(path: String, name: String, header text: String, earlierHeaders: [String] = [], durability: Durability = .synced) throws(Failure) {
        if case .written(let interval) = durability, interval <= .zero {
            throw Failure(description: "the \(name) '\(path)': the flush interval must be positive, got \(interval)")
        }
        self.path = path
        self.name = name
        self.durability = durability
        self.header = text
        let header = Array(text.utf8)
        let descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure(description: "cannot open the \(name) '\(path)': \(DurableFile.systemError())") }
        fd = descriptor
        do throws(Failure) {
            var size = Int(lseek(fd, 0, SEEK_END))
            if size > 0 && size < header.count && (try? checkHeader(Array(header[0..<size]))) != nil {
                // A crash while the header was being written: start the file again.
                guard ftruncate(fd, 0) == 0 else { throw Failure(description: "truncating '\(path)' failed: \(DurableFile.systemError())") }
                size = 0
            }
            if size == 0 {
                try write(header)
                guard fsync(fd) == 0 else { throw Failure(description: "fsync of '\(path)' failed: \(DurableFile.systemError())") }
                do { try DurableFile.syncDirectory(of: path) } catch { throw Failure(description: error.description) }
            } else {
                if let earlier = earlierHeaders.first(where: { (try? checkHeader(Array($0.utf8))) != nil }) {
                    self.header = earlier
                } else {
                    try checkHeader(header)
                }
                size = try cutTornTail(size: size)
            }
            committed.bytes = size == 0 ? header.count : size
            flushed = committed.bytes
        } catch {
            close(fd)
            throw error
        }
        // The thread holds the log until `shutDown`.
        let thread = Thread { [self] in
            switch durability {
            case .synced: self.commitLoop()
            case .written(let interval): self.flushLoop(every: interval)
            }
        }
        thread.name = "drlrec-" + name.replacingOccurrences(of: " ", with: "-")
        thread.start()
    }

    deinit { close(fd) }

    /// Appends `line` (complete lines, newline included) and returns once it is as durable as the
    /// log's `durability` says.
    public func append(_ line: [UInt8]) async throws {
        if case .written = durability {
            try appendWritten(line)
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard !closed else { continuation.resume(throwing: Failure(description: "the \(name) '\(path)' is closed")); return }
            if let poison { continuation.resume(throwing: poison); return }
            pending += line
            waiters.append(continuation)
            condition.signal()
        }
    }

    /// The file's size in bytes and the number of lines appended since the log was opened, both
    /// counting only acknowledged appends.
    public var end: (bytes: Int, appendedLines: Int) { condition.withLock { committed } }

    /// Stops the commit thread after the events already appended are written (and with `written`,
    /// flushed).
    public func shutDown() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    private func commitLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty && closed { condition.unlock(); return }
            let batch = pending, batchWaiters = waiters
            pending.removeAll(keepingCapacity: true)
            waiters.removeAll(keepingCapacity: true)
            let poisoned = poison
            condition.unlock()
            if let poisoned {
                // Appended before the failure that poisoned the log was known.
                for waiter in batchWaiters { waiter.resume(throwing: poisoned) }
                continue
            }
            do throws(Failure) {
                try write(batch)
                guard fsync(fd) == 0 else { throw Failure(description: "fsync of the \(name) '\(path)' failed: \(DurableFile.systemError())") }
                let lines = batch.count { $0 == 10 }
                condition.withLock { committed = (committed.bytes + batch.count, committed.appendedLines + lines) }
                for waiter in batchWaiters { waiter.resume() }
            } catch {
                let bytes = condition.withLock { committed.bytes }
                if let uncut = cutBack(to: bytes, after: error) { condition.withLock { poison = poison ?? uncut } }
                for waiter in batchWaiters { waiter.resume(throwing: error) }
            }
        }
    }

    /// `written`: the line goes to the kernel under the lock, so that concurrent appends keep
    /// whole lines in the order they were acknowledged.
    private func appendWritten(_ line: [UInt8]) throws(Failure) {
        condition.lock()
        defer { condition.unlock() }
        if closed { throw Failure(description: "the \(name) '\(path)' is closed") }
        if let poison { throw poison }
        do { try write(line) } catch {
            if let uncut = cutBack(to: committed.bytes, after: error) { poison = uncut }
            throw error
        }
        committed = (committed.bytes + line.count, committed.appendedLines + line.count { $0 == 10 })
    }

    /// After a write that failed part of the way (a full disk, the file-size limit), cuts the file
    /// back to the acknowledged lines: otherwise the next append that succeeds, once there is
    /// room again, would continue the unacknowledged fragment and the two would read as one bad
    /// line. The caller is the only writer at the time (the commit thread, or an append under the lock).
    /// Returns the failure that poisons the log when the cut fails too.
    private func cutBack(to bytes: Int, after failure: Failure) -> Failure? {
        guard truncateFile(fd, off_t(bytes)) != 0 else { return nil }
        return Failure(description: "\(failure.description); cutting the \(name) '\(path)' back to its acknowledged lines failed too "
                       + "(\(DurableFile.systemError())): it refuses appends until a restart cuts the unacknowledged fragment off")
    }

    /// `written`: flushes what was written since the last flush every `interval`, and once more at
    /// shutdown.
    private func flushLoop(every interval: Duration) {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) * 1e-18
        while true {
            condition.lock()
            if !closed { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
            let (end, stop) = (committed.bytes, closed)
            condition.unlock()
            if end > flushed {
                if fsync(fd) == 0 {
                    flushed = end
                } else {
                    let failure = Failure(description: "fsync of the \(name) '\(path)' failed: \(DurableFile.systemError())")
                    condition.withLock { poison = poison ?? failure }
                }
            }
            if stop { return }
        }
    }

    private func write(_ bytes: [UInt8]) throws(Failure) {
        do { try writeFile(fd, bytes, path) } catch { throw Failure(description: error.description) }
    }

    private func checkHeader(_ header: [UInt8]) throws(Failure) {
        var first = [UInt8](repeating: 0, count: header.count)
        let n = first.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, header.count, 0) }
        guard n == header.count, first == header else {
            let found = String(decoding: first[0..<max(n, 0)].prefix { $0 != 10 }, as: UTF8.self)
            throw Failure(description: "the \(name) '\(path)' has the header '\(found)', expected '\(String(decoding: header.dropLast(), as: UTF8.self))'")
        }
    }

    /// Truncates an incomplete last line (an unacknowledged event cut short by a crash); returns
    /// the size left.
    private func cutTornTail(size: Int) throws(Failure) -> Int {
        var last: UInt8 = 0
        guard pread(fd, &last, 1, off_t(size - 1)) == 1 else { throw Failure(description: "reading the \(name) '\(path)' failed: \(DurableFile.systemError())") }
        guard last != 10 else { return size }
        var end = size - 1
        var chunk = [UInt8](repeating: 0, count: 4096)
        while end > 0 {
            let start = max(0, end - chunk.count)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, end - start, off_t(start)) }
            guard n == end - start else { throw Failure(description: "reading the \(name) '\(path)' failed: \(DurableFile.systemError())") }
            if let newline = chunk[0..<n].lastIndex(of: 10) { end = start + newline + 1; break }
            end = start
        }
        guard ftruncate(fd, off_t(end)) == 0, fsync(fd) == 0 else {
            throw Failure(description: "cutting the incomplete last line of '\(path)' failed: \(DurableFile.systemError())")
        }
        return end
    }
}
