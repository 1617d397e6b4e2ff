import Foundation

/// Creates the directory of `path` when missing (for the default checkpoint locations).
func ensureDirectory(of path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    guard !directory.isEmpty else { return }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
}

/// A file size for people: "412 KB", "43.5 MB" (decimal units).
func byteCount(_ bytes: Int) -> String {
    switch bytes {
    case ..<1_000: "\(bytes) bytes"
    case ..<1_000_000: "\(Int((Double(bytes) / 1e3).rounded())) KB"
    default: String(format: "%.1f MB", Double(bytes) / 1e6)
    }
}
