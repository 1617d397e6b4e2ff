import Foundation

/// Creates the directory of `path` when missing (for the default checkpoint locations).
func ensureDirectory(of path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    guard !directory.isEmpty else { return }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
}
