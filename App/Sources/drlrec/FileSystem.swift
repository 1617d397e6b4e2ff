import Foundation

/// Creates the directory of `path` when missing (for the default checkpoint locations).
func ensureDirectory(of path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    guard !directory.isEmpty else { return }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
}

/// Refuses, before a long run, a file the run would write at its end into a folder that is missing
/// or not writable.
func requireWritableDirectory(of path: String, option: String) throws {
    let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    guard access(directory.isEmpty ? "/" : directory, W_OK) == 0 else {
        throw CommandFailure("\(option) \(path): the directory '\(directory)' does not exist or is not writable")
    }
}

/// A file size for people: "412 KB", "43.5 MB" (decimal units).
func byteCount(_ bytes: Int) -> String {
    switch bytes {
    case ..<1_000: "\(bytes) bytes"
    case ..<1_000_000: "\(Int((Double(bytes) / 1e3).rounded())) KB"
    default: String(format: "%.1f MB", Double(bytes) / 1e6)
    }
}
