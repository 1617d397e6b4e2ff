import DRLData
import ArgumentParser
import Foundation

/// The interactions `fit` and `compress` train and evaluate on: a fetched public dataset or a
/// logged-interactions file.
struct InteractionSource: ParsableArguments {
    @Option(help: "A public dataset fetched by `drlrec data fetch`: movielens.")
    var dataset: String?

    @Option(help: ArgumentHelp("A logged-interactions CSV file (every item in category 0).", valueName: "file"))
    var data: String?

    @Option(help: ArgumentHelp("The cache directory: where `drlrec data fetch` put the datasets, and where a --data file's binary cache is kept (default: $XDG_CACHE_HOME/drlrec or ~/.cache/drlrec).", valueName: "dir"))
    var cache: String?

    func validate() throws {
        guard (dataset == nil) != (data == nil) else { throw ValidationError("give exactly one of --dataset and --data") }
        if let dataset, dataset != "movielens" { throw ValidationError("--dataset \(dataset): only movielens is known") }
    }

    /// The interactions before `until`, with each item's category, the files read and a name.
    func load(until: Int64?) throws -> (log: LoggedInteractions, categories: [Int32], files: [String], scenario: String) {
        var result: (log: LoggedInteractions, categories: [Int32], files: [String], scenario: String)
        if let data {
            let log = try Self.actions(in: data)
            result = (log, [Int32](repeating: 0, count: log.itemCount), [data], (data as NSString).lastPathComponent)
        } else {
            let (log, categories, files) = try Self.movieLens(cache: cache)
            result = (log, categories, files, "movielens-100k")
        }
        if let until {
            // Each item keeps its category through the re-indexing.
            let categoryById = Dictionary(uniqueKeysWithValues: zip(result.log.itemIds, result.categories))
            result.log = result.log.within(.min..<until)
            result.categories = result.log.itemIds.map { categoryById[$0]! }
        }
        return result
    }
}

extension InteractionSource {
    /// The interactions by user, with each item's category, the SHA-256 of the data and a name.
    /// A --data file is mapped from its binary cache (`InteractionCache`), built on first use and
    /// whenever the file changes, so a log bigger than memory trains; with `until`, the rows
    /// before it are read into memory instead.
    func sequences(until: Int64?, quiet: Bool) throws -> (data: UserSequences, categories: [Int32], dataHash: String, scenario: String) {
        guard let data, until == nil else {
            let (log, categories, files, scenario) = try load(until: until)
            return (UserSequences(log), categories, try dataHash(files), scenario)
        }
        let opened = try Self.cached(data, cache: cache, quiet: quiet)
        return (opened.sequences, [Int32](repeating: 0, count: opened.sequences.itemCount), opened.digest, (data as NSString).lastPathComponent)
    }

    /// The action rows of a logged-interactions file, mapped from its binary cache under `cache`
    /// (the default cache directory when nil), which is built first when missing or stale.
    static func cached(_ file: String, cache: String?, reading: InteractionCache.Reading = .init(), quiet: Bool) throws -> InteractionCache.Opened {
        let name = (file as NSString).lastPathComponent, start = Sampler.now()
        let opened: InteractionCache.Opened
        do {
            opened = try InteractionCache.load(file, cache: InteractionCache.path(for: file, in: cache ?? PublicDataset.defaultCache, reading: reading),
                                               reading: reading)
        } catch {
            throw CommandFailure("\(error)")
        }
        if !quiet, let reason = opened.builtBecause {
            say(String(format: "%@: binary cache built in %.0f s (%@)", name, Sampler.now() - start, reason))
        }
        if !quiet, opened.impressionRows > 0 { say("\(name): \(opened.impressionRows) impression rows left out (shown, not acted on)") }
        // Lines lost are said even when quiet.
        if let first = opened.firstBadRow { say("\(name): \(opened.badRows) unreadable lines left out (the first: \(first))") }
        return opened
    }

    /// What the users did in a logged-interactions file, read into memory: its `impression` rows
    /// (what they were only shown, as an impression log holds them) are left out, and saying so.
    static func actions(in file: String) throws -> LoggedInteractions {
        let log: LoggedInteractions
        do { log = try LoggedInteractions.read(csv: file) } catch { throw CommandFailure("\(error)") }
        let actions = log.actions()
        if actions.count < log.count {
            say("\((file as NSString).lastPathComponent): \(log.count - actions.count) impression rows left out (shown, not acted on)")
        }
        return actions
    }

    /// MovieLens-100K from the cache, each movie in the category of its first genre, with the
    /// files it was read from.
    static func movieLens(cache: String?) throws -> (log: LoggedInteractions, categories: [Int32], files: [String]) {
        let directory = (cache ?? PublicDataset.defaultCache) + "/movielens"
        let log: LoggedInteractions, genres: [[String]]
        do { (log, genres) = try MovieLens100K.load(directory: directory) } catch { throw CommandFailure("\(error)") }
        let names = Array(Set(genres.flatMap { $0 })).sorted()
        let categories = genres.map { Int32($0.first.flatMap { names.firstIndex(of: $0) } ?? 0) }
        return (log, categories, [MovieLens100K.ratingsFile, MovieLens100K.usersFile, MovieLens100K.itemsFile].map { directory + "/" + $0 })
    }
}

/// SHA-256 of the files' contents, in order, or of one file alone.
func dataHash(_ files: [String]) throws -> String {
    var bytes: [UInt8] = []
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read '\(file)'") }
        bytes += data
    }
    return SHA256.hex(bytes)
}
