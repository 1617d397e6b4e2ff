import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One campaign's logs of the Open Bandit Dataset (ZOZOTOWN; Saito et al., 2021) as
/// `drlrec data fetch obd` leaves them: each round shows an item at one of three positions to a
/// user described by four categorical features and an affinity to every item, with the click and
/// the logging policy's propensity.
public struct OpenBanditLog: Sendable {
    public let itemCount: Int
    /// Seconds since 1970 (UTC), from the log's timestamps.
    public let timestamps: [Int64]
    public let items: [Int32], positions: [Int32], clicks: [Float], propensities: [Float]
    /// Each round's four user features, as indices into `featureValues`.
    public let userFeatures: [[Int32]]
    public let featureValues: [[String]]
    /// [rounds, items].
    public let affinities: Tensor

    public var rounds: Int { items.count }
    public var clickRate: Double { clicks.reduce(0.0) { $0 + Double($1) } / Double(max(rounds, 1)) }

    /// Reads `<policy>/<campaign>/<campaign>.csv` under `directory`.
    public static func load(directory: String, policy: String, campaign: String) throws(DataFileError) -> OpenBanditLog {
        let path = "\(directory)/\(policy)/\(campaign)/\(campaign).csv"
        var header: [String] = []
        var timestamps: [Int64] = [], items: [Int32] = [], positions: [Int32] = [], clicks: [Float] = [], propensities: [Float] = []
        var userFeatures: [[Int32]] = [], affinity: [Float] = []
        var featureIndex = [[String: Int32]](repeating: [:], count: 4), featureValues = [[String]](repeating: [], count: 4)
        var columns: (time: Int, item: Int, position: Int, click: Int, propensity: Int, features: [Int], affinities: [Int]) = (0, 0, 0, 0, 0, [], [])
        let lines = try forEachLine(of: path, hint: "; run `drlrec data fetch obd` first") { lineNumber, text throws(DataFileError) in
            let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if lineNumber == 1 {
                header = fields
                func column(_ name: String) throws(DataFileError) -> Int {
                    guard let k = header.firstIndex(of: name) else { throw DataFileError(file: path, line: 1, column: name, "the header lacks the column") }
                    return k
                }
                columns = (try column("timestamp"), try column("item_id"), try column("position"), try column("click"), try column("propensity_score"),
                           [try column("user_feature_0"), try column("user_feature_1"), try column("user_feature_2"), try column("user_feature_3")],
                           header.indices.filter { header[$0].hasPrefix("user-item_affinity_") })
                guard !columns.affinities.isEmpty else {
                    throw DataFileError(file: path, line: 1, column: "user-item_affinity_0", "the header has no affinity columns")
                }
                return
            }
            guard fields.count == header.count else { throw DataFileError(file: path, line: lineNumber, "has \(fields.count) fields; the header has \(header.count)") }
            func fail(_ column: Int, _ message: String) -> DataFileError { DataFileError(file: path, line: lineNumber, column: header[column], message) }
            let k = columns.affinities.count
            guard let item = Int32(fields[columns.item]), item >= 0, Int(item) < k else { throw fail(columns.item, "'\(fields[columns.item])' is not an item in 0..<\(k)") }
            guard let position = Int32(fields[columns.position]), (1...3).contains(position) else {
                throw fail(columns.position, "'\(fields[columns.position])' is not a position 1, 2 or 3")
            }
            guard let click = Float(fields[columns.click]), click == 0 || click == 1 else { throw fail(columns.click, "'\(fields[columns.click])' is not 0 or 1") }
            guard let propensity = Float(fields[columns.propensity]), propensity > 0, propensity <= 1 else {
                throw fail(columns.propensity, "'\(fields[columns.propensity])' is not a probability in (0, 1]")
            }
            guard let seconds = Self.seconds(fields[columns.time]) else {
                throw fail(columns.time, "'\(fields[columns.time])' is not a time 'YYYY-MM-DD hh:mm:ss[.ffffff][+00:00]'")
            }
            timestamps.append(seconds)
            items.append(item)
            positions.append(position - 1)
            clicks.append(click)
            propensities.append(propensity)
            userFeatures.append((0..<4).map { f in
                let value = fields[columns.features[f]]
                if let known = featureIndex[f][value] { return known }
                featureIndex[f][value] = Int32(featureValues[f].count)
                featureValues[f].append(value)
                return Int32(featureValues[f].count - 1)
            })
            for c in columns.affinities {
                guard let value = Float(fields[c]), value.isFinite else { throw fail(c, "'\(fields[c])' is not a number") }
                affinity.append(value)
            }
        }.line
        guard !items.isEmpty else { throw DataFileError(file: path, line: max(lines, 1), "the file has no rounds") }
        let rounds = items.count, itemCount = columns.affinities.count
        return OpenBanditLog(itemCount: itemCount, timestamps: timestamps, items: items, positions: positions, clicks: clicks, propensities: propensities,
                             userFeatures: userFeatures, featureValues: featureValues,
                             affinities: Tensor(shape: Shape(rounds, itemCount), scalars: affinity))
    }

    /// Seconds since 1970 of "YYYY-MM-DD hh:mm:ss", any fraction and a +00:00 offset ignored.
    static func seconds(_ text: String) -> Int64? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-").compactMap { Int64($0) }
        let clock = parts[1].prefix { $0 != "." && $0 != "+" && $0 != "Z" }.split(separator: ":").compactMap { Int64($0) }
        guard date.count == 3, clock.count == 3, (1...12).contains(date[1]), (1...31).contains(date[2]),
              (0..<24).contains(clock[0]), (0..<60).contains(clock[1]), (0...60).contains(clock[2]) else { return nil }
        // Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = date[1] <= 2 ? date[0] - 1 : date[0], m = date[1], d = date[2]
        let era = (y >= 0 ? y : y - 399) / 400, yearOfEra = y - era * 400
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + clock[0] * 3_600 + clock[1] * 60 + clock[2]
    }

    /// The rounds in DRLRec's logged-interactions format: one interaction per round (user
    /// "round-i", since the dataset has no user ids), a click or an impression, the propensity,
    /// and as context the position (1 to 3), the four user features (numbered) and the user's
    /// affinity to the item shown.
    public func interactions() -> LoggedInteractions {
        var log = LoggedInteractions(contextColumns: ["position", "user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3", "affinity"])
        for i in 0..<rounds {
            log.append(user: "round-\(i)", item: "\(items[i])", timestamp: timestamps[i], event: clicks[i] == 1 ? .click : .impression,
                       propensity: propensities[i],
                       context: [Float(positions[i] + 1)] + userFeatures[i].map(Float.init) + [affinities[i, Int(items[i])]])
        }
        return log
    }

    /// The rounds `rows` (with the same feature numbering).
    public func subset(_ rows: [Int]) -> OpenBanditLog {
        var affinity: [Float] = []
        affinity.reserveCapacity(rows.count * itemCount)
        for r in rows { for a in 0..<itemCount { affinity.append(affinities[r, a]) } }
        return OpenBanditLog(itemCount: itemCount, timestamps: rows.map { timestamps[$0] }, items: rows.map { items[$0] }, positions: rows.map { positions[$0] },
                             clicks: rows.map { clicks[$0] }, propensities: rows.map { propensities[$0] },
                             userFeatures: rows.map { userFeatures[$0] }, featureValues: featureValues,
                             affinities: Tensor(shape: Shape(rows.count, itemCount), scalars: affinity))
    }

    /// How often each item was shown at each position, normalised per position: the logging
    /// policy's action distribution as a context-free table [3, items].
    public func positionActionDistribution() -> Tensor {
        var table = Tensor(zeros: Shape(3, itemCount))
        var totals: [Float] = [0, 0, 0]
        for i in 0..<rounds {
            table[Int(positions[i]), Int(items[i])] += 1
            totals[Int(positions[i])] += 1
        }
        for p in 0..<3 { for a in 0..<itemCount { table[p, a] /= max(totals[p], 1) } }
        return table
    }
}
