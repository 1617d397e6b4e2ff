import Foundation

/// Why a public dataset could not be fetched or verified, in words that say how to mend it.
public struct PublicDatasetError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A public dataset carried by a Python wheel: the wheel's pinned digest and the data files to
/// take from it (with their published digests where there are some).
public struct PublicDataset: Sendable {
    /// One data file of the dataset: where it is in the wheel, where it is kept, and its digest.
    public struct File: Sendable {
        /// The file's path inside the wheel, and where it is kept in the dataset's directory.
        public let member: String, path: String
        /// The digest its publisher gives, where there is one.
        public let sha256: String?
    }

    public let name: String, requirement: String, wheelSHA256: String
    public let files: [File]

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
        ])

    public static let openBandit: PublicDataset = {
        let published = [
            "random/all/all.csv": "7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1",
            "bts/all/all.csv": "0ad874e4dbf6902f0845dd478ad8dde5ef6903583d3ffaace78411bdad064106",
            "random/all/item_context.csv": "eba04cc23d5f130a93ff174c5392986882b94c3839433cb8143870eaa6221358",
        ]
        var files: [File] = []
        for policy in ["random", "bts"] {
            for campaign in ["all", "men", "women"] {
                for name in ["\(campaign).csv", "item_context.csv"] {
                    let path = "\(policy)/\(campaign)/\(name)"
                    files.append(File(member: "obp/dataset/obd/" + path, path: path, sha256: published[path]))
                }
            }
        }
        return PublicDataset(name: "obd", requirement: "obp==0.4.1",
                             wheelSHA256: "87dec9caf4283c25ab13036532e0a24566f1c7bdcad1653a8ded43b2f5ef8208", files: files)
    }()

    /// $XDG_CACHE_HOME/drlrec, or ~/.cache/drlrec.
    public static var defaultCache: String {
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/drlrec" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/drlrec"
    }

    /// The digests of the files as fetched (published digests, and for the other files the
    /// digests taken from the verified wheel), kept beside them.
    public static let manifestName = "SHA256SUMS"

    /// Whether every file is in `directory` with the digest it was fetched with; a file that is
    /// there with another digest is an error.
    public func isPresent(in directory: String) throws(PublicDatasetError) -> Bool {
        guard let manifest = try? String(contentsOfFile: directory + "/" + Self.manifestName, encoding: .utf8) else { return false }
        var recorded: [String: String] = [:]
        for line in manifest.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { recorded[parts[1].trimmingCharacters(in: .whitespaces)] = parts[0] }
        }
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: directory + "/" + file.path) else { return false }
            let digest = SHA256.hex(Array(bytes))
            guard digest == (file.sha256 ?? recorded[file.path]) else {
                throw PublicDatasetError("\(directory)/\(file.path) is there but its SHA-256 is \(digest), not \(file.sha256 ?? recorded[file.path] ?? "the recorded one"): delete it and fetch again")
            }
        }
        return true
    }

    /// Downloads the wheel with pip, checks its digest, and writes each data file (checked, and
    /// replaced atomically) and the manifest into `directory`.
    public func fetch(into directory: String, progress: (String) -> Void = { _ in }) throws(PublicDatasetError) {
        do { try fetchFiles(into: directory, progress: progress) } catch let error as PublicDatasetError { throw error } catch {
            throw PublicDatasetError("fetching \(name) into \(directory): \(error.localizedDescription)")
        }
    }

    private func fetchFiles(into directory: String, progress: (String) -> Void) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("drlrec-fetch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        progress("downloading \(requirement) with pip...")
        let download = try Self.run("python3", ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", scratch, requirement])
        guard download.status == 0,
              let wheel = try FileManager.default.contentsOfDirectory(atPath: scratch).first(where: { $0.hasSuffix(".whl") }) else {
            throw PublicDatasetError("""
                pip could not download \(requirement) (\(download.output.split(separator: "\n").last ?? "no output")).
                Without pip or a network, download the wheel elsewhere with `pip download --no-deps --only-binary=:all: \(requirement)`, \
                and copy these files out of it (a wheel is a zip) into \(directory)/: \(files.map { "\($0.member) as \($0.path)" }.joined(separator: ", ")).
                """)
        }
        let wheelPath = scratch + "/" + wheel
        let digest = SHA256.hex(Array(try Data(contentsOf: URL(fileURLWithPath: wheelPath))))
        guard digest == wheelSHA256 else {
            throw PublicDatasetError("the downloaded \(wheel) has SHA-256 \(digest), not the pinned \(wheelSHA256); refusing it")
        }
        var manifest = ""
        for file in files {
            let extract = try Self.run("python3", ["-c", "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))",
                                                   wheelPath, file.member], binary: true)
            guard extract.status == 0 else { throw PublicDatasetError("could not read \(file.member) from \(wheel): \(extract.output)") }
            let fileDigest = SHA256.hex(Array(extract.data))
            if let expected = file.sha256, fileDigest != expected {
                throw PublicDatasetError("\(file.member) in \(wheel) has SHA-256 \(fileDigest), not the published \(expected)")
            }
            let target = directory + "/" + file.path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try extract.data.write(to: URL(fileURLWithPath: target), options: .atomic)
            manifest += "\(fileDigest)  \(file.path)\n"
        }
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: directory + "/" + Self.manifestName), options: .atomic)
    }

    /// Runs a program found on PATH and collects its exit status and output.
    private static func run(_ program: String, _ arguments: [String], binary: Bool = false) throws -> (status: Int32, data: Data, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = binary ? errors : output
        do { try process.run() } catch {
            throw PublicDatasetError("cannot run \(program): \(error). DRLRec fetches datasets through Python's pip; install python3 and pip, or provide the files by hand")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = binary ? String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        return (process.terminationStatus, data, binary ? errorText : String(decoding: data, as: UTF8.self))
    }
}
