@testable import DRLData
import Foundation
import ScratchFiles
import Testing

@Suite struct PublicDatasetTests {
    @Test func aMissingDatasetIsNotPresent() throws {
        let directory = Scratch.directory("empty")
        #expect(try PublicDataset.movielens.isPresent(in: directory) == false)
    }

    /// A file that is there with another digest than its publisher's is an error that names it,
    /// not a dataset silently used or silently fetched over.
    @Test func aFileWithAnotherDigestIsRefusedByName() throws {
        let directory = Scratch.directory("movielens")
        let dataset = PublicDataset.movielens
        for file in dataset.files { try Data("not the data\n".utf8).write(to: URL(fileURLWithPath: directory + "/" + file.path)) }
        try Data(dataset.files.map { "\(SHA256.hex(Array("not the data\n".utf8)))  \($0.path)\n" }.joined().utf8)
            .write(to: URL(fileURLWithPath: directory + "/" + PublicDataset.manifestName))
        #expect { try dataset.isPresent(in: directory) } throws: {
            "\($0)".hasPrefix("\(directory)/\(dataset.files[0].path) is there but its SHA-256 is") && "\($0)".contains(dataset.files[0].sha256!)
        }
    }

    @Test func theRegistryNamesItsDatasets() {
        #expect(PublicDataset.all.map(\.name) == ["movielens", "obd"])
        #expect(PublicDataset.named("obd")?.requirement == "obp==0.4.1")
        #expect(PublicDataset.named("netflix") == nil)
        // Every Open Bandit file is pinned; MovieLens' publisher route derives the movies' file
        // only: its ratings and users must be RecBole's bytes.
        #expect(PublicDataset.openBandit.files.count == 12 && PublicDataset.openBandit.files.allSatisfy { $0.sha256 != nil })
        let movielens = PublicDataset.movielens
        #expect(movielens.files.map { movielens.pinned($0, route: .publisher) } == [movielens.files[0].sha256, nil, movielens.files[2].sha256])
        #expect(movielens.files.allSatisfy { movielens.pinned($0, route: .wheel) == $0.sha256 })
    }

    /// Made-up data in GroupLens' layout, zipped by Python's zipfile: u.data deflated in dynamic
    /// Huffman blocks, short.txt in a fixed one, noise.bin (incompressible) in stored blocks, the
    /// README stored.
    static let fixture: [UInt8] = Array(try! Data(contentsOf: Bundle.module.url(forResource: "Fixtures/grouplens-layout", withExtension: "zip")!))

    /// Each member as Python wrote it: the SHA-256 of its contents, which Python computed.
    @Test func theZipReaderInflatesEveryKindOfMember() throws {
        let archive = try ZipArchive(bytes: Self.fixture)
        let digests = ["ml-100k/u.data": "86665bea8cb7872cb55cc2e125fcf8925a4c2867271a5142623021811ccc4035",
                       "ml-100k/u.user": "9b2891b3280301488edd9cb6a6b26a14063fd40460cc9fac09f05c2ed32fdd60",
                       "ml-100k/u.item": "9430e466b4ae30ae58d38f039da4afa83032d18b9eaba5ce9a15850604937512",
                       "ml-100k/README": "f66fd944faaac7f77280a1ffbe18b3ee2627662705d5ea3ba0da1d2989436d0d",
                       "noise.bin": "389693eacbb9e29d23de33ac6745ba5efd2e66b28eea23a9093d461f783bcc5f",
                       "short.txt": "aebf849731c1dcc99623a81499c9d79d801bb1ded06281e96bfad0c7971eeec2"]
        #expect(Set(archive.members.map(\.name)) == Set(digests.keys))
        for (name, digest) in digests { #expect(SHA256.hex(try archive.contents(of: name)) == digest, "\(name)") }
        #expect(String(decoding: try archive.contents(of: "short.txt"), as: UTF8.self) == "abc abc abc abc\n")
        #expect { try archive.contents(of: "u.data") } throws: { "\($0)".contains("no member 'u.data'") }
    }

    /// A damaged archive is refused with what is wrong: a changed byte of compressed data, a
    /// member declaring more bytes than a member may have (refused before inflating), a cut-off
    /// archive.
    @Test func aDamagedArchiveIsRefused() throws {
        let archive = try ZipArchive(bytes: Self.fixture)
        let member = try #require(archive.members.first { $0.name == "ml-100k/u.data" })
        var changed = Self.fixture
        changed[member.localHeaderOffset + 30 + member.name.utf8.count + member.compressedSize / 2] ^= 0x55
        #expect { try ZipArchive(bytes: changed).contents(of: "ml-100k/u.data") } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("'ml-100k/u.data': ") && (text.contains("CRC-32") || text.contains("Huffman") || text.contains("inflate")
                                                              || text.contains("match") || text.contains("declares") || text.contains("ends early"))
        }
        // The central directory's size of u.data, set to 1 GiB.
        var inflated = Self.fixture
        let entry = try #require(Self.centralEntry(of: "ml-100k/u.data", in: inflated))
        for (k, byte) in withUnsafeBytes(of: UInt32(1 << 30).littleEndian, Array.init).enumerated() { inflated[entry + 24 + k] = byte }
        #expect { try ZipArchive(bytes: inflated).contents(of: "ml-100k/u.data") } throws: { "\($0)".contains("declares 1073741824 bytes") }
        #expect { try ZipArchive(bytes: Array(Self.fixture.prefix(40_000))) } throws: { "\($0)".contains("no end-of-central-directory record") }
    }

    /// The offset of `name`'s central directory entry.
    static func centralEntry(of name: String, in bytes: [UInt8]) -> Int? {
        let signature: [UInt8] = [0x50, 0x4b, 0x01, 0x02], wanted = Array(name.utf8)
        return (0..<(bytes.count - 46)).first { k in
            Array(bytes[k..<(k + 4)]) == signature && Array(bytes[(k + 46)..<min(bytes.count, k + 46 + wanted.count)]) == wanted
        }
    }

    /// A MovieLens-like dataset whose publisher is the zip fixture, its pins those of the files
    /// the fixture makes (the movies' derived, its wheel pin not applying), served at `mirror`.
    static func fixtureDataset(zipDigest: String = SHA256.hex(fixture), ratingsPin: String? = nil) throws -> PublicDataset {
        let made = try DatasetPublisher.movieLensFiles(from: ZipArchive(bytes: fixture))
        let files = PublicDataset.movielens.files.map { file in
            PublicDataset.File(member: file.member, path: file.path,
                               sha256: file.path == "ml-100k.item" ? file.sha256 : file.path == "ml-100k.inter" ? ratingsPin ?? SHA256.hex(made[file.path]!) : SHA256.hex(made[file.path]!))
        }
        return PublicDataset(name: "movielens", requirement: "none==0", wheelSHA256: "", files: files,
                             publisher: DatasetPublisher(name: "the test's server",
                                                         download: .zip(url: "https://files.example.invalid/datasets/ml-100k.zip", sha256: zipDigest,
                                                                        unpack: { try DatasetPublisher.movieLensFiles(from: $0) }),
                                                         derived: ["ml-100k.item"]))
    }

    /// From the publisher (a mirror of it on loopback): the archive checked, the ratings written
    /// as RecBole's file (its typed header, then u.data's bytes), the users with tabs, the movies'
    /// genres in GroupLens' order; the manifest names the route, and the loader reads the result.
    @Test func thePublishersArchiveIsCheckedAndMadeIntoTheDatasetsFiles() throws {
        let server = try LocalHTTPServer(files: ["/datasets/ml-100k.zip": Self.fixture])
        defer { server.stop() }
        let directory = Scratch.directory("publisher-movielens")
        var said: [String] = []
        let route = try Self.fixtureDataset().fetch(into: directory, routes: [.publisher], mirror: "http://127.0.0.1:\(server.port)/datasets",
                                                    progress: { said.append($0) })
        #expect(route == .publisher && said == ["downloading http://127.0.0.1:\(server.port)/datasets/ml-100k.zip..."])
        #expect(try Self.fixtureDataset().isPresent(in: directory))
        let archive = try ZipArchive(bytes: Self.fixture)
        let ratings = try #require(FileManager.default.contents(atPath: directory + "/ml-100k.inter"))
        #expect(Array(ratings) == Array("user_id:token\titem_id:token\trating:float\ttimestamp:float\n".utf8) + (try archive.contents(of: "ml-100k/u.data")))
        let users = try String(contentsOfFile: directory + "/ml-100k.user", encoding: .utf8).split(separator: "\n")
        #expect(users.count == 41 && users.dropFirst().allSatisfy { $0.split(separator: "\t").count == 5 && !$0.contains("|") })
        let manifest = try String(contentsOfFile: directory + "/" + PublicDataset.manifestName, encoding: .utf8)
        #expect(manifest.hasPrefix("# from the publisher the test's server\n"))

        let (log, genres) = try MovieLens100K.load(directory: directory)
        #expect(log.count == 3000 && genres.allSatisfy { !$0.isEmpty && $0.allSatisfy(DatasetPublisher.movieLensGenres.contains) })
        // Movie 1's genres are its set flags, in u.item's order.
        let movie1 = String(decoding: try archive.contents(of: "ml-100k/u.item"), as: UTF8.self).split(separator: "\n")[0]
            .split(separator: "|", omittingEmptySubsequences: false)
        let flagged = zip(DatasetPublisher.movieLensGenres, movie1[5...]).filter { $1 == "1" }.map(\.0)
        #expect(genres[Int(log.itemIndex(of: "1")!)] == flagged)
    }

    /// A changed archive, a file not matching its pin, or an address that answers 404 writes
    /// nothing, and says why.
    @Test func aDownloadThatDoesNotMatchItsPinsWritesNothing() throws {
        var changed = Self.fixture
        changed[100] ^= 1
        let server = try LocalHTTPServer(files: ["/a/ml-100k.zip": changed, "/b/ml-100k.zip": Self.fixture])
        defer { server.stop() }
        let directory = Scratch.directory("publisher-refused")
        #expect { try Self.fixtureDataset().fetch(into: directory, routes: [.publisher], mirror: "http://127.0.0.1:\(server.port)/a/") } throws: {
            "\($0)".hasPrefix("could not fetch movielens:") && "\($0)".contains("ml-100k.zip has SHA-256 \(SHA256.hex(changed)), not the pinned \(SHA256.hex(Self.fixture)); refusing it")
        }
        #expect { try Self.fixtureDataset(ratingsPin: String(repeating: "0", count: 64)).fetch(into: directory, routes: [.publisher], mirror: "http://127.0.0.1:\(server.port)/b") } throws: {
            "\($0)".contains("ml-100k.inter has SHA-256 ") && "\($0)".contains("not the pinned 0000")
        }
        #expect { try Self.fixtureDataset().fetch(into: directory, routes: [.publisher], mirror: "http://127.0.0.1:\(server.port)/c") } throws: {
            "\($0)".contains("/c/ml-100k.zip answered HTTP 404")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    /// A publisher serving the files themselves (the Open Bandit Dataset's way): each fetched
    /// under its path and checked against its pin.
    @Test func aPublisherOfFilesIsFetchedFileByFile() throws {
        let contents = ["random/all/all.csv": Array("a,b\n1,2\n".utf8), "random/all/item_context.csv": Array("item_id\n0\n".utf8)]
        let server = try LocalHTTPServer(files: Dictionary(uniqueKeysWithValues: contents.map { ("/obd/" + $0.key, $0.value) }))
        defer { server.stop() }
        let dataset = PublicDataset(name: "obd", requirement: "none==0", wheelSHA256: "",
                                    files: contents.keys.sorted().map { .init(member: $0, path: $0, sha256: SHA256.hex(contents[$0]!)) },
                                    publisher: DatasetPublisher(name: "the test's server", download: .files(base: "https://example.invalid/obd/"), derived: []))
        let directory = Scratch.directory("publisher-files")
        try dataset.fetch(into: directory, routes: [.publisher], mirror: "http://127.0.0.1:\(server.port)/obd/")
        #expect(try dataset.isPresent(in: directory))
        #expect(FileManager.default.contents(atPath: directory + "/random/all/all.csv").map(Array.init) == contents["random/all/all.csv"])
    }
}
