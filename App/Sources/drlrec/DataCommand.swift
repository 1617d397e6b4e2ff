import DRLData
import ArgumentParser
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Real public datasets: fetch them into a local cache.",
        subcommands: [Fetch.self, Convert.self, Synthesize.self]
    )

    /// Writes `log` in the logged-interactions format to `out`, replacing it atomically.
    static func write(_ log: LoggedInteractions, to out: String) throws {
        do { try Data(log.csv().utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
            throw CommandFailure("--out \(out): cannot write it (\(error.localizedDescription))")
        }
    }

    /// What `log`, written to `out`, holds, as a JSON line after `first`.
    static func written(_ log: LoggedInteractions, to out: String, _ first: [(String, JSONLine.Value)]) -> JSONLine {
        JSONLine(first + [("interactions", .int(log.count)), ("users", .int(log.userCount)), ("items", .int(log.itemCount)), ("out", .string(out))])
    }

    struct Synthesize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic sequential log in DRLRec's logged-interactions format (for load tests and large catalogues).",
            discussion: """
            Each user walks a ring of items with a stride of 1, 2 or 3 (the context column "stride"), one \
            click an hour, jumping to a random item with probability --jump.
            """
        )

        @Option(parsing: .unconditional, help: "Users.") var users = 20_000
        @Option(parsing: .unconditional, help: "Items in the catalogue.") var items = 10_000
        @Option(parsing: .unconditional, help: "Clicks per user.") var events = 20
        @Option(parsing: .unconditional, help: "Probability of a random jump.") var jump = 0.1
        @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 0
        @Option(help: ArgumentHelp("Output CSV file.", valueName: "path")) var out: String
        @Flag(help: "Print the result as a JSON line.") var json = false

        func validate() throws {
            guard users > 0, items > 3, events > 0, (0...1).contains(jump) else {
                throw ValidationError("--users and --events must be positive, --items above 3 and --jump in [0, 1]")
            }
        }

        func run() throws {
            let rows: Int
            do { rows = try SyntheticLog.write(users: users, items: items, eventsPerUser: events, jump: jump, seed: seed, to: out) } catch {
                throw CommandFailure("--out \(out): cannot write it (\(error.message))")
            }
            print(json ? JSONLine([("event", .string("synthesized")), ("interactions", .int(rows)), ("users", .int(users)), ("items", .int(items)),
                                   ("out", .string(out))]).text
                  : "\(rows) clicks of \(users) users on \(items) items written to \(out)")
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a fetched dataset in DRLRec's logged-interactions CSV format (replaced atomically).",
            discussion: """
            movielens: one rating interaction per rating (value = stars), context age and female. \
            obd: one click or impression per round of --policy on --campaign, with its propensity, and \
            context position, the four user features (numbered) and the affinity to the item shown.
            """
        )

        @Argument(help: "Dataset: movielens or obd.")
        var dataset: String

        @Option(help: ArgumentHelp("Output CSV file.", valueName: "path"))
        var out: String

        @Option(help: "On obd: the logging policy, random or bts.")
        var policy: String = "random"

        @Option(help: "On obd: the campaign, all, men or women.")
        var campaign: String = "all"

        @Option(help: ArgumentHelp("The cache `drlrec data fetch` filled (default: $XDG_CACHE_HOME/drlrec or ~/.cache/drlrec).", valueName: "dir"))
        var cache: String?

        @Option(parsing: .unconditional, help: ArgumentHelp("Only interactions at or after this time (seconds since the epoch).", valueName: "seconds"))
        var since: Int64?

        @Option(parsing: .unconditional, help: ArgumentHelp("Only interactions before this time.", valueName: "seconds"))
        var until: Int64?

        @Flag(help: "Print the result as a JSON line.")
        var json = false

        func validate() throws {
            guard ["movielens", "obd"].contains(dataset) else { throw ValidationError("unknown dataset '\(dataset)'; choose movielens or obd") }
            guard ["random", "bts"].contains(policy), ["all", "men", "women"].contains(campaign) else {
                throw ValidationError("--policy must be random or bts and --campaign all, men or women")
            }
        }

        func run() throws {
            let root = cache ?? PublicDataset.defaultCache
            var log: LoggedInteractions
            do {
                log = dataset == "movielens" ? try MovieLens100K.load(directory: root + "/movielens").interactions
                    : try OpenBanditLog.load(directory: root + "/obd", policy: policy, campaign: campaign).interactions()
            } catch { throw CommandFailure("\(error)") }
            if since != nil || until != nil { log = log.within((since ?? .min)..<(until ?? .max)) }
            try DataCommand.write(log, to: out)
            print(json ? DataCommand.written(log, to: out, [("event", .string("converted")), ("dataset", .string(dataset))]).text
                  : "\(dataset): \(log.count) interactions of \(log.userCount) users on \(log.itemCount) items written to \(out)")
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a dataset's files into the cache, verified by SHA-256 (nothing is fetched again when they are there).",
            discussion: """
            From the publisher's own address when the network reaches it: movielens is MovieLens-100K, \
            GroupLens' ml-100k.zip (its ratings and users are written as RecBole's files, byte for byte), \
            obd the Open Bandit Dataset's small sample from ZOZO Research's repository at a pinned commit. \
            Otherwise from the public Python wheels that carry the same files, which pip downloads from \
            PyPI (the only route to the data from many machines): recbole 1.2.1 and obp 0.4.1. Every \
            download and file is checked against a pinned SHA-256, and nothing is written unless all \
            pass. Only the data files are kept. MovieLens' terms forbid redistribution: keep the cache \
            to yourself.
            """
        )

        @Option(name: .customLong("from"), help: ArgumentHelp("Where to fetch from: auto (the publisher, then the wheel), publisher or wheel.", valueName: "route"))
        var route = "auto"

        @Option(help: ArgumentHelp("Fetch the publisher's files from this copy instead (an http or https folder holding them under the publisher's names).", valueName: "url"))
        var mirror: String?

        @Argument(help: "Dataset: \(PublicDataset.all.map(\.name).joined(separator: ", ")).")
        var dataset: String

        @Option(help: ArgumentHelp("Cache directory (default: $XDG_CACHE_HOME/drlrec or ~/.cache/drlrec).", valueName: "dir"))
        var cache: String?

        @Flag(help: "Print the result as a JSON line.")
        var json = false

        func validate() throws {
            guard PublicDataset.named(dataset) != nil else {
                throw ValidationError("unknown dataset '\(dataset)'; choose \(PublicDataset.all.map(\.name).joined(separator: " or "))")
            }
            guard ["auto", "publisher", "wheel"].contains(route) else { throw ValidationError("--from must be auto, publisher or wheel, got '\(route)'") }
            if mirror != nil && route == "wheel" { throw ValidationError("--mirror replaces the publisher's address; --from wheel does not use it") }
        }

        func run() throws {
            let source = PublicDataset.named(dataset)!
            let directory = (cache ?? PublicDataset.defaultCache) + "/" + source.name
            let present: Bool
            var fetched: PublicDataset.Route?
            do {
                present = try source.isPresent(in: directory)
                let routes: [PublicDataset.Route] = route == "auto" ? [.publisher, .wheel] : [PublicDataset.Route(rawValue: route)!]
                if !present { fetched = try source.fetch(into: directory, routes: routes, mirror: mirror, progress: say) }
            } catch {
                throw CommandFailure("\(error)")
            }
            if json {
                print(JSONLine([("event", .string("fetched")), ("dataset", .string(source.name)), ("files", .int(source.files.count)),
                                ("directory", .string(directory)), ("already_present", .bool(present)),
                                ("from", fetched.map { .string($0.rawValue) } ?? .null)]).text)
            } else {
                print(present ? "\(source.name): already in \(directory), verified" : "\(source.name): \(source.files.count) files from the \(fetched!.rawValue) in \(directory), verified")
            }
        }
    }
}
