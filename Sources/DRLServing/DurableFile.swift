#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read, systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read, systemWrite = Darwin.write
#endif

/// Writes that survive a crash at any instant: the bytes go to a temporary file beside the
/// destination, are fsync'd, and the file is renamed over the destination, whose directory is then
/// fsync'd. A reader sees the old file or the new one, never a mixture.
enum DurableFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func systemError() -> String { String(cString: strerror(errno)) }

    /// Replaces `path` with `bytes` atomically.
    static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create '\(temporary)': \(systemError())") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do throws(Failure) {
            try writeAll(fd, bytes, path: temporary)
            guard fsync(fd) == 0 else { throw Failure(description: "fsync of '\(temporary)' failed: \(systemError())") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw Failure(description: "closing '\(temporary)' failed: \(systemError())") }
        guard rename(temporary, path) == 0 else {
            throw Failure(description: "renaming '\(temporary)' to '\(path)' failed: \(systemError())")
        }
        renamed = true
        try syncDirectory(of: path)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "writing '\(path)' failed: \(systemError())") }
            written += n
        }
    }

    /// Makes a rename or a new entry in `path`'s directory durable.
    static func syncDirectory(of path: String) throws(Failure) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        try syncDirectory(directory)
    }

    static func syncDirectory(_ directory: String) throws(Failure) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open the directory '\(directory)': \(systemError())") }
        defer { close(fd) }
        // Some file systems cannot sync a directory (EINVAL): nothing more can be done there.
        guard fsync(fd) == 0 || errno == EINVAL else {
            throw Failure(description: "syncing the directory '\(directory)' failed: \(systemError())")
        }
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) throws(Failure) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw Failure(description: "cannot open '\(path)': \(systemError())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Failure(description: "reading '\(path)' failed: \(systemError())") }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }
}
