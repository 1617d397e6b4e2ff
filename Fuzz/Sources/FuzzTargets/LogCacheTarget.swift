import DRLData
import Foundation

/// The binary cache of a logged-interactions file, as `drlrec fit --data` finds it beside a small
/// log. The input is the cache's bytes with the log's digest written over its place in the header,
/// so that mutations get past the digest to the counts, the strings and the columns. Loading must
/// never trap: a cache used as it was found must read in bounds (every column is read, and
/// AddressSanitizer watches), and one refused is rebuilt into exactly the log's own rows.
enum LogCacheTarget {
    static let source: (path: String, digest: String, expected: UserSequences) = {
        let text = """
        user,item,timestamp,event,value,hour
        u1,m1,30,click,1,0.5
        u2,m2,10,view,0.5,3
        u1,m3,20,purchase,19.5,1
        u1,m2,20,impression,1,1
        u3,m1,5,rating,4,2
        u1,m1,40,like,1,0.25

        """
        let path = FuzzScratch.directory + "/cached-log.csv"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let digest = try! SHA256.hex(ofFile: path).digest
        return (path, digest, UserSequences(try! LoggedInteractions.read(csv: path).actions()))
    }()

    /// The cache of the fixed log, as DRLRec builds it: the corpus's seed.
    static var seed: [UInt8] {
        let cache = FuzzScratch.directory + "/seed.sequences"
        _ = try! InteractionCache.load(source.path, cache: cache)
        return [UInt8](FileManager.default.contents(atPath: cache)!)
    }

    static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        var bytes = input
        let digestBytes = 72..<136  // the header's digest (InteractionCache.headerBytes)
        if bytes.count >= digestBytes.upperBound { bytes.replaceSubrange(digestBytes, with: Array(source.digest.utf8)) }
        let cache = FuzzScratch.file("log.sequences", bytes)
        let opened: InteractionCache.Opened
        do { opened = try InteractionCache.load(source.path, cache: cache) } catch {
            throw FuzzFailure("a cache made its log unloadable: \(error)")
        }
        let s = opened.sequences
        guard opened.builtBecause == nil else {
            let same = s.itemIds == source.expected.itemIds && s.contextColumns == source.expected.contextColumns
                && Array(s.userStarts) == Array(source.expected.userStarts) && Array(s.items) == Array(source.expected.items)
                && Array(s.timestamps) == Array(source.expected.timestamps) && Array(s.values) == Array(source.expected.values)
                && Array(s.context) == Array(source.expected.context) && (0..<s.count).allSatisfy { s.event($0) == source.expected.event($0) }
            guard same else { throw FuzzFailure("the cache rebuilt over a refused one does not hold the log's rows") }
            return false
        }
        // Used as found: every row of every user, and every context value, read.
        var checksum = 0
        for user in 0..<s.userCount {
            for row in s.rows(of: user) {
                checksum &+= Int(s.items[row]) &+ Int(s.timestamps[row]) &+ s.event(row).rawValue &+ Int(s.values[row].bitPattern)
                checksum &+= s.contextValues(row).reduce(0) { $0 &+ Int($1.bitPattern) }
                _ = s.itemIds[Int(s.items[row])]
            }
        }
        return checksum != 1  // read, whatever it is
    }
}
