import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A synthetic log with sequential structure, for load tests and for catalogues larger than the
/// public datasets: each user walks a ring of `items` items with a stride of 1, 2 or 3 (given as
/// the context column "stride"), an hour between clicks, and with probability `jump` moves to a
/// random item instead. A sequential model can learn the rule; popularity cannot.
public enum SyntheticLog {
    /// The log in memory, items indexed by their number ("i7" is item 7).
    public static func generate(users: Int, items: Int, eventsPerUser: Int, jump: Double = 0.1, seed: UInt64) -> LoggedInteractions {
        var log = LoggedInteractions(contextColumns: ["stride"], items: (0..<items).map { "i\($0)" })
        forEachClick(users: users, items: items, eventsPerUser: eventsPerUser, jump: jump, seed: seed) { user, item, timestamp, stride in
            log.append(user: "u\(user)", item: "i\(item)", timestamp: timestamp, event: .click, context: [Float(stride)])
        }
        return log
    }

    /// The same log written to `path` in the logged-interactions format (what `generate`'s log
    /// writes with `csv()`), a row at a time: a log of any size in the memory of a megabyte.
    /// The file is written beside `path` and renamed over it. Returns the rows written.
    @discardableResult
    public static func write(users: Int, items: Int, eventsPerUser: Int, jump: Double = 0.1, seed: UInt64, to path: String) throws(DataFileError) -> Int {
        let temporary = path + ".tmp-\(getpid())"
        guard let file = fopen(temporary, "w") else {
            throw DataFileError(file: path, line: 0, "cannot create the file (\(String(cString: strerror(errno))))")
        }
        var closed = false, renamed = false
        defer {
            if !closed { fclose(file) }
            if !renamed { unlink(temporary) }
        }
        var failed = fputs(LoggedInteractions.csvHeader(servedColumns: false, contextColumns: ["stride"]) + "\n", file) < 0, rows = 0
        forEachClick(users: users, items: items, eventsPerUser: eventsPerUser, jump: jump, seed: seed) { user, item, timestamp, stride in
            guard !failed else { return }
            let line = LoggedInteractions.csvRow(user: "u\(user)", item: "i\(item)", timestamp: timestamp, event: .click, value: 1, propensity: .nan,
                                                 served: nil, servedColumns: false, context: CollectionOfOne(Float(stride)))
            failed = fputs(line + "\n", file) < 0
            rows += 1
        }
        closed = true
        guard !failed, fflush(file) == 0, fsync(fileno(file)) == 0, fclose(file) == 0 else {
            throw DataFileError(file: path, line: 0, "writing failed (\(String(cString: strerror(errno))))")
        }
        guard rename(temporary, path) == 0 else {
            throw DataFileError(file: path, line: 0, "cannot put the file in place (\(String(cString: strerror(errno))))")
        }
        renamed = true
        return rows
    }

    /// Each click in order: the user's number, the item's, the time and the user's stride.
    static func forEachClick(users: Int, items: Int, eventsPerUser: Int, jump: Double, seed: UInt64,
                             _ body: (Int, Int, Int64, Int) -> Void) {
        require(users > 0 && items > 3 && eventsPerUser > 0 && (0...1).contains(jump),
                "SyntheticLog: \(users) users, \(items) items, \(eventsPerUser) events, jump \(jump)")
        var rng = RandomGenerator(seed: seed, stream: 0x5E9)
        for user in 0..<users {
            let stride = 1 + rng.nextIndex(below: 3)
            var item = rng.nextIndex(below: items)
            for t in 0..<eventsPerUser {
                body(user, item, Int64(t) * 3_600, stride)
                item = Double(rng.uniform()) < jump ? rng.nextIndex(below: items) : (item + stride) % items
            }
        }
    }
}
