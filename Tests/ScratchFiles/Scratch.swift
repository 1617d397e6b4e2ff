import Foundation

/// Files that tests write live under one directory per test process, removed when the process
/// exits: test runs leave nothing behind in the system's temporary directory.
public enum Scratch {
    public static let root: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("drlrec-tests-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.root) }
        return path
    }()

    /// A new path under the scratch root ending in `name` (nothing is created there).
    public static func path(_ name: String) -> String { root + "/\(UUID().uuidString)-\(name)" }

    /// A new, empty directory under the scratch root.
    public static func directory(_ name: String) -> String {
        let path = self.path(name)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
