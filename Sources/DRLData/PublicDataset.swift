import Foundation

/// Why a public dataset could not be fetched or verified, in words that say how to mend it.
public struct PublicDatasetError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A public dataset: its files, fetched from the publisher's own address when the network
/// reaches it, or else from a public Python wheel that carries them (through pip, from PyPI, the
/// one route to the data from many machines). Every file is checked against a pinned SHA-256.
public struct PublicDataset: Sendable {
    /// One data file of the dataset: where it is in the wheel, where it is kept, and its digest.
    public struct File: Sendable {
        /// The file's path inside the wheel, and where it is kept in the dataset's directory.
        public let member: String, path: String
        /// Its pinned digest (the publisher's where it gives one, otherwise taken from the pinned
        /// wheel and, where the publisher's copy is visible, checked against it).
        public let sha256: String?
    }

    /// Where the files come from.
    public enum Route: String, Sendable, CaseIterable {
        case publisher, wheel
    }

    public let name: String, requirement: String, wheelSHA256: String
    public let files: [File]
    public let publisher: DatasetPublisher

    public static let all = [movielens, openBandit]

    public static func named(_ name: String) -> PublicDataset? { all.first { $0.name == name } }

    public static let movielens = PublicDataset(
        name: "movielens", requirement: "recbole==1.2.1",
        wheelSHA256: "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
        files: [
            File(member: "recbole/dataset_example/ml-100k/ml-100k.inter", path: "ml-100k.inter",
                 sha256: "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"),
            File(member: "recbole/dataset_example/ml-100k/ml-100k.item", path: "ml-100k.item",
                 sha256: "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532"),
            File(member: "recbole/dataset_example/ml-100k/ml-100k.user", path: "ml-100k.user",
                 sha256: "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"),
        ],
        publisher: .movieLens100K)

    public static let openBandit: PublicDataset = {
        // Each file's digest: the wheel's copy, the same bytes as the publisher's repository holds
        // at the commit below (their git blob ids agree); the first three are in DATA.md too.
        let digests = [
            "random/all/all.csv": "7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1",
            "bts/all/all.csv": "0ad874e4dbf6902f0845dd478ad8dde5ef6903583d3ffaace78411bdad064106",
            "random/all/item_context.csv": "eba04cc23d5f130a93ff174c5392986882b94c3839433cb8143870eaa6221358",
            "random/men/men.csv": "ede6d08c6877f99cd3770f7d09e26c738e6aa6de4445ccccfb1356ba5d06b1eb",
            "random/men/item_context.csv": "6d855c2b7e917d0448d71bbe62c023147495882c0fdc8c41e86fef86abf9fe09",
            "random/women/women.csv": "e65f3bd3beb17664fa69cc129bf7bf852a775f8ffa630506e505fc905315bb34",
            "random/women/item_context.csv": "b1ca4905f97703d196004f2ad4552c1e90c2afad8b50688d333b0d2dc0b33147",
            "bts/all/item_context.csv": "5d4359ba1cfa3ae88f0f1bae66bd633859fe6323817183632ee57b83539d9153",
            "bts/men/men.csv": "db6d1f7ed2d591ba521533e45286d4c1fba7fe57a8ad2e80342210335f43c527",
            "bts/men/item_context.csv": "3b411ed6b0471316321a6b93f4f756bb25888eac6218cd71d0b603d41d85732d",
            "bts/women/women.csv": "e5d1b49a39b608585a2f3014a3f54970430cd37a495c1b73fceb85cdf428a5b8",
            "bts/women/item_context.csv": "a56295bad066a558eb783055afd9279f5f4e209a4776eafc22151c53f0ac89d4",
        ]
        var files: [File] = []
        for policy in ["random", "bts"] {
            for campaign in ["all", "men", "women"] {
                for name in ["\(campaign).csv", "item_context.csv"] {
                    let path = "\(policy)/\(campaign)/\(name)"
                    files.append(File(member: "obp/dataset/obd/" + path, path: path, sha256: digests[path]))
                }
            }
        }
        return PublicDataset(name: "obd", requirement: "obp==0.4.1",
                             wheelSHA256: "87dec9caf4283c25ab13036532e0a24566f1c7bdcad1653a8ded43b2f5ef8208", files: files,
                             publisher: .openBanditSample)
    }()

    /// $XDG_CACHE_HOME/drlrec, or ~/.cache/drlrec.
    public static var defaultCache: String {
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/drlrec" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/drlrec"
    }

    /// The digests of the files as fetched (pinned digests, and for the files a route derives,
    /// the digests they were made with from the verified download), kept beside them; its first
    /// line names the route.
    public static let manifestName = "SHA256SUMS"

    /// Whether every file is in `directory` with the digest it was fetched with; a file that is
    /// there with another digest is an error.
    public func isPresent(in directory: String) throws(PublicDatasetError) -> Bool {
        guard let manifest = try? String(contentsOfFile: directory + "/" + Self.manifestName, encoding: .utf8) else { return false }
        var recorded: [String: String] = [:]
        var route = Route.wheel
        for line in manifest.split(separator: "\n") {
            if line.hasPrefix("# from the ") { route = Route(rawValue: String(line.dropFirst("# from the ".count).prefix { $0 != " " })) ?? .wheel }
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2, !line.hasPrefix("#") { recorded[parts[1].trimmingCharacters(in: .whitespaces)] = parts[0] }
        }
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: directory + "/" + file.path) else { return false }
            let digest = SHA256.hex(Array(bytes)), expected = pinned(file, route: route) ?? recorded[file.path]
            guard digest == expected else {
                throw PublicDatasetError("\(directory)/\(file.path) is there but its SHA-256 is \(digest), not \(expected ?? "the recorded one"): delete it and fetch again")
            }
        }
        return true
    }

    /// The digest `file` must have when fetched by `route` (nil: one the route derives).
    func pinned(_ file: File, route: Route) -> String? {
        route == .publisher && publisher.derived.contains(file.path) ? nil : file.sha256
    }

    /// Fetches every file into `directory` (each checked, and replaced atomically, then the
    /// manifest) by the first of `routes` that succeeds, saying through `progress` why an earlier
    /// one did not, and returns that route. `mirror` replaces the publisher's address by a copy
    /// of its files.
    @discardableResult
    public func fetch(into directory: String, routes: [Route] = Route.allCases, mirror: String? = nil,
                      progress: (String) -> Void = { _ in }) throws(PublicDatasetError) -> Route {
        precondition(!routes.isEmpty, "PublicDataset.fetch: no route")
        var failures: [String] = []
        for route in routes {
            do {
                let contents = route == .publisher ? try publisher.fetch(files.map(\.path), mirror: mirror, progress: progress)
                    : try fetchWheel(progress: progress)
                try write(contents, route: route, into: directory)
                return route
            } catch {
                failures.append("\(route == .publisher ? "from \(mirror ?? publisher.name)" : "from the wheel"): \(error)")
                if route != routes.last { progress("\(failures.last!); trying the \(routes[routes.firstIndex(of: route)! + 1] == .wheel ? "wheel" : "publisher") instead") }
            }
        }
        throw PublicDatasetError("could not fetch \(name):\n  " + failures.joined(separator: "\n  "))
    }

    /// Checks every file against its digest for `route`, then writes them and the manifest.
    private func write(_ contents: [String: [UInt8]], route: Route, into directory: String) throws {
        var manifest = "# from the \(route.rawValue) \(route == .publisher ? publisher.name : requirement)\n"
        for file in files {
            guard let bytes = contents[file.path] else { throw PublicDatasetError("the download lacks \(file.path)") }
            let digest = SHA256.hex(bytes)
            if let expected = pinned(file, route: route), digest != expected {
                throw PublicDatasetError("\(file.path) has SHA-256 \(digest), not the pinned \(expected); refusing it")
            }
            manifest += "\(digest)  \(file.path)\n"
        }
        for file in files {
            let target = directory + "/" + file.path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(contents[file.path]!).write(to: URL(fileURLWithPath: target), options: .atomic)
        }
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: directory + "/" + Self.manifestName), options: .atomic)
    }

    /// Downloads the wheel with pip, checks its digest, and reads the data files out of it.
    private func fetchWheel(progress: (String) -> Void) throws -> [String: [UInt8]] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("drlrec-fetch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        progress("downloading \(requirement) with pip...")
        let download = try Self.run("python3", ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", scratch, requirement])
        guard download.status == 0,
              let wheel = try FileManager.default.contentsOfDirectory(atPath: scratch).first(where: { $0.hasSuffix(".whl") }) else {
            throw PublicDatasetError("""
                pip could not download \(requirement) (\(download.output.split(separator: "\n").last ?? "no output")). \
                Without pip or a network, download the wheel elsewhere with `pip download --no-deps --only-binary=:all: \(requirement)`, \
                and copy these files out of it (a wheel is a zip) into the cache: \(files.map { "\($0.member) as \($0.path)" }.joined(separator: ", ")).
                """)
        }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: scratch + "/" + wheel)))
        let digest = SHA256.hex(bytes)
        guard digest == wheelSHA256 else {
            throw PublicDatasetError("the downloaded \(wheel) has SHA-256 \(digest), not the pinned \(wheelSHA256); refusing it")
        }
        let archive = try ZipArchive(bytes: bytes)
        var contents: [String: [UInt8]] = [:]
        for file in files { contents[file.path] = try archive.contents(of: file.member) }
        return contents
    }

    /// Runs a program found on PATH and collects its exit status and output.
    private static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch {
            throw PublicDatasetError("cannot run \(program): \(error); the wheel is fetched through Python's pip")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
