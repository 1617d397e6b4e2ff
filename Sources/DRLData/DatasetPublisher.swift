import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A dataset's own publisher: where it serves the files, pinned to one version, and how they
/// become the dataset's files.
public struct DatasetPublisher: Sendable {
    enum Download: Sendable {
        /// Each file at `base` followed by its path in the dataset.
        case files(base: String)
        /// One zip archive with a pinned digest, whose members `unpack` makes into the dataset's files.
        case zip(url: String, sha256: String, unpack: @Sendable (ZipArchive) throws -> [String: [UInt8]])
    }

    /// Who publishes the dataset, and where.
    public let name: String
    let download: Download
    /// The files this route makes rather than copies (their digests are recorded when made from
    /// the verified download, not pinned).
    let derived: Set<String>

    /// The address the files come from (the archive's, or the folder of the files).
    public var address: String {
        switch download {
        case .files(let base): return base
        case .zip(let url, _, _): return url
        }
    }

    /// The dataset's files (by path), from the publisher or from `mirror`, a copy of its files
    /// under the same names. Bounded: no file may exceed `maximumBytes`.
    func fetch(_ paths: [String], mirror: String?, progress: (String) -> Void) throws -> [String: [UInt8]] {
        let base = mirror.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        switch download {
        case .files(let publisherBase):
            var contents: [String: [UInt8]] = [:]
            progress("downloading \(paths.count) files from \(base ?? publisherBase)...")
            for path in paths { contents[path] = try Self.get((base ?? publisherBase) + path) }
            return contents
        case .zip(let url, let sha256, let unpack):
            let address = base.map { $0 + (url as NSString).lastPathComponent } ?? url
            progress("downloading \(address)...")
            let bytes = try Self.get(address)
            let digest = SHA256.hex(bytes)
            guard digest == sha256 else { throw PublicDatasetError("\(address) has SHA-256 \(digest), not the pinned \(sha256); refusing it") }
            return try unpack(try ZipArchive(bytes: bytes))
        }
    }

    static let maximumBytes = 64 << 20

    /// The body of a GET of `address`, which must answer 200 within a minute of silence.
    static func get(_ address: String) throws(PublicDatasetError) -> [UInt8] {
        guard let url = URL(string: address), ["http", "https"].contains(url.scheme ?? "") else {
            throw PublicDatasetError("'\(address)' is not an http or https address")
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.timeoutIntervalForResource = 30 * 60
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let result = DownloadResult()
        session.dataTask(with: url) { data, response, error in result.finish(data, response, error) }.resume()
        result.done.wait()
        if let error = result.error { throw PublicDatasetError("\(address): \(error.localizedDescription)") }
        let status = (result.response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200, let data = result.data else { throw PublicDatasetError("\(address) answered HTTP \(status)") }
        guard data.count <= maximumBytes else { throw PublicDatasetError("\(address) sent \(data.count) bytes, more than the \(maximumBytes) expected") }
        return Array(data)
    }
}

/// What a download's completion handler hands back to the waiting thread.
private final class DownloadResult: @unchecked Sendable {
    // Written once by the handler before `done` is signalled, read after the wait.
    var data: Data?, response: URLResponse?, error: Error?
    let done = DispatchSemaphore(value: 0)

    func finish(_ data: Data?, _ response: URLResponse?, _ error: Error?) {
        (self.data, self.response, self.error) = (data, response, error)
        done.signal()
    }
}

extension DatasetPublisher {
    /// GroupLens' own archive of MovieLens-100K, made into the files RecBole's wheel carries: the
    /// ratings and the users are byte for byte RecBole's (their pinned digests are checked), the
    /// movies keep the columns DRLRec reads (the id and the genres, in GroupLens' order).
    static let movieLens100K = DatasetPublisher(
        name: "GroupLens (files.grouplens.org)",
        download: .zip(url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
                       sha256: "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
                       unpack: { archive in try movieLensFiles(from: archive) }),
        derived: ["ml-100k.item"])

    /// The Open Bandit Dataset's sample as its publisher's repository holds it, at a pinned commit.
    static let openBanditSample = DatasetPublisher(
        name: "ZOZO Research (github.com/st-tech/zr-obp)",
        download: .files(base: "https://raw.githubusercontent.com/st-tech/zr-obp/04c4c85ffbd1840cfbed782c025ce33c8072e9fe/obd/"),
        derived: [])

    /// The genres of MovieLens-100K, in the order of u.item's flags (u.genre).
    static let movieLensGenres = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
                                  "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]

    /// ml-100k.inter, .user and .item from the archive's u.data, u.user and u.item.
    static func movieLensFiles(from archive: ZipArchive) throws -> [String: [UInt8]] {
        let ratings = try archive.contents(of: "ml-100k/u.data"), users = try archive.contents(of: "ml-100k/u.user")
        let movies = try archive.contents(of: "ml-100k/u.item")
        let pipe = UInt8(ascii: "|"), tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n")
        var items = Array("item_id:token\tclass:token_seq\n".utf8)
        for (k, line) in movies.split(separator: newline).enumerated() {
            let fields = line.split(separator: pipe, omittingEmptySubsequences: false)
            guard fields.count == 5 + movieLensGenres.count else {
                throw PublicDatasetError("ml-100k/u.item line \(k + 1) has \(fields.count) fields, not \(5 + movieLensGenres.count)")
            }
            let genres = zip(movieLensGenres, fields[5...]).filter { Array($1) == [UInt8(ascii: "1")] }.map(\.0)
            items += Array(fields[0]) + [tab] + Array(genres.joined(separator: " ").utf8) + [newline]
        }
        return ["ml-100k.inter": Array("user_id:token\titem_id:token\trating:float\ttimestamp:float\n".utf8) + ratings,
                "ml-100k.user": Array("user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n".utf8)
                    + users.map { $0 == pipe ? tab : $0 },
                "ml-100k.item": items]
    }
}
