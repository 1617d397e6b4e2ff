import DRLData
import DRLTensor

/// An evaluation policy for the Open Bandit Dataset given as a table of action probabilities per
/// position, context-free or per user context.
///
/// The file is CSV with the header `position,item,probability` (position 1 to 3, item 0..<items;
/// absent pairs are 0) and, for a policy per context, one or more of the log's user-feature
/// columns `user_feature_0` … `user_feature_3`. Each row of a contextual table belongs to the
/// context its feature values name, matched by value against the log's raw feature values; a row
/// with `*` in every feature column belongs to the default distribution, used for contexts the
/// table does not list. Every listed context (and the default) gives all three positions, and each
/// position's probabilities sum to 1.
public struct OpenBanditPolicyTable: Sendable {
    public static let positions = 3
    public static let featureColumns = (0..<4).map { "user_feature_\($0)" }

    public let itemCount: Int
    /// The user features (0 to 3) that key the table, in the file's column order; empty when the
    /// table is context-free.
    public let contextFeatures: [Int]
    /// Each listed context's distribution [3, items], keyed by its feature values in
    /// `contextFeatures` order (a context-free table has one, keyed by []).
    public let distributions: [[String]: Tensor]
    /// The distribution of the contexts the table does not list.
    public let fallback: Tensor?
    /// Where the table came from, for error messages.
    public let source: String

    /// A context-free table from a [3, items] distribution (each row summing to 1).
    public init(positionDistribution: Tensor, source: String) {
        require(positionDistribution.rank == 2 && positionDistribution.shape[0] == Self.positions,
                "OpenBanditPolicyTable: a distribution must be [3, items], got \(positionDistribution.shape)")
        itemCount = positionDistribution.shape[1]
        contextFeatures = []
        distributions = [[]: positionDistribution]
        fallback = nil
        self.source = source
    }

    /// Reads a table file (see the type's description) for a log of `items` items.
    public init(contentsOf path: String, items: Int) throws(DataFileError) {
        var columns: (position: Int, item: Int, probability: Int, features: [Int])?, header: [String] = []
        var features: [Int] = []
        // Per context (nil: the default): its distribution and the last line that added to it.
        var tables: [[String]: Tensor] = [:], defaultTable: Tensor?, lastLine: [[String]?: Int] = [:]
        let lines = try forEachLine(of: path) { line, text throws(DataFileError) in
            let fields: [String]
            do throws(LoggedInteractions.CSVLineError) { fields = try LoggedInteractions.fields(of: text) } catch {
                throw DataFileError(file: path, line: line, error.message)
            }
            guard let columns else {
                header = fields
                guard let position = fields.firstIndex(of: "position"), let item = fields.firstIndex(of: "item"),
                      let probability = fields.firstIndex(of: "probability") else {
                    throw DataFileError(file: path, line: line, "the header must name the columns position, item and probability (it has \(fields))")
                }
                let named = fields.indices.filter { Self.featureColumns.contains(fields[$0]) }
                let unknown = fields.filter { !["position", "item", "probability"].contains($0) && !Self.featureColumns.contains($0) }
                guard unknown.isEmpty else {
                    throw DataFileError(file: path, line: line, column: unknown[0],
                                        "is not a column of a policy table (position, item, probability and any of \(Self.featureColumns.joined(separator: ", ")))")
                }
                guard Set(named.map { fields[$0] }).count == named.count else {
                    throw DataFileError(file: path, line: line, "the header names a user feature twice (it has \(fields))")
                }
                features = named.map { Self.featureColumns.firstIndex(of: fields[$0])! }
                columns = (position, item, probability, named)
                return
            }
            guard fields.count == header.count else { throw DataFileError(file: path, line: line, "has \(fields.count) fields; the header has \(header.count)") }
            guard let position = Int(fields[columns.position]), (1...Self.positions).contains(position) else {
                throw DataFileError(file: path, line: line, column: "position", "'\(fields[columns.position])' is not a position 1, 2 or 3")
            }
            guard let item = Int(fields[columns.item]), (0..<items).contains(item) else {
                throw DataFileError(file: path, line: line, column: "item", "'\(fields[columns.item])' is not an item in 0..<\(items)")
            }
            guard let probability = Float(fields[columns.probability]), (0...1).contains(probability) else {
                throw DataFileError(file: path, line: line, column: "probability", "'\(fields[columns.probability])' is not a probability in [0, 1]")
            }
            let values = columns.features.map { fields[$0] }
            let wildcards = values.filter { $0 == "*" }.count
            guard wildcards == 0 || wildcards == values.count else {
                throw DataFileError(file: path, line: line, column: header[columns.features[values.firstIndex { $0 != "*" }!]],
                                    "a row has '*' in every user-feature column (the default) or in none")
            }
            let key: [String]? = wildcards > 0 ? nil : values
            lastLine[key] = line
            if let key {
                tables[key, default: Tensor(zeros: Shape(Self.positions, items))][position - 1, item] = probability
            } else {
                if defaultTable == nil { defaultTable = Tensor(zeros: Shape(Self.positions, items)) }
                defaultTable![position - 1, item] = probability
            }
        }.line
        guard columns != nil else { throw DataFileError(file: path, line: max(lines, 1), "the file is empty; it needs a header") }
        let all: [([String]?, Tensor)] = tables.map { ($0.key, $0.value) } + (defaultTable.map { [(nil, $0)] } ?? [])
        guard !all.isEmpty else { throw DataFileError(file: path, line: lines, "the table has no rows") }
        for (key, table) in all {
            for p in 0..<Self.positions {
                let total = (0..<items).reduce(Float(0)) { $0 + table[p, $1] }
                guard abs(total - 1) <= 1e-3 else {
                    let context = key.map { Self.describe($0, features: features) } ?? "the default ('*')"
                    throw DataFileError(file: path, line: lastLine[key] ?? lines, column: "probability",
                                        "the probabilities of position \(p + 1)" + (features.isEmpty ? "" : " for \(context)") + " sum to \(total), not 1")
                }
            }
        }
        itemCount = items
        contextFeatures = features
        distributions = tables
        fallback = defaultTable
        source = path
    }

    /// Each round's probability of every item [rounds, items]: the distribution of the round's
    /// context (or the default) at the round's position.
    public func probabilities(for log: OpenBanditLog) throws(UncoveredContextError) -> Tensor {
        require(log.itemCount == itemCount, "OpenBanditPolicyTable: the table has \(itemCount) items, the log \(log.itemCount)")
        var result = Tensor(zeros: Shape(log.rounds, itemCount))
        var uncovered: (first: Int, key: [String], count: Int)?
        result.withUnsafeMutableBufferPointer { out in
            for i in 0..<log.rounds {
                let key = contextFeatures.map { log.featureValues[$0][Int(log.userFeatures[i][$0])] }
                guard let table = distributions[key] ?? fallback else {
                    uncovered = (uncovered?.first ?? i, uncovered?.key ?? key, (uncovered?.count ?? 0) + 1)
                    continue
                }
                table.withUnsafeBufferPointer { t in
                    let p = Int(log.positions[i])
                    for a in 0..<itemCount { out[i * itemCount + a] = t[p * itemCount + a] }
                }
            }
        }
        if let uncovered {
            throw UncoveredContextError(table: source, context: Self.describe(uncovered.key, features: contextFeatures),
                                        round: uncovered.first, rounds: uncovered.count)
        }
        return result
    }

    static func describe(_ values: [String], features: [Int]) -> String {
        zip(features, values).map { "user_feature_\($0.0)=\($0.1)" }.joined(separator: ", ")
    }
}

/// Rounds of a log whose context a policy table gives no distribution for, and no default.
public struct UncoveredContextError: Error, CustomStringConvertible, Equatable, Sendable {
    public let table: String, context: String
    /// The first such round (0-based) and how many there are.
    public let round: Int, rounds: Int
    public var description: String {
        "\(table): no distribution for the context \(context) of round \(round) (\(rounds) rounds have contexts the table does not list), and no default row with '*' in every user-feature column"
    }
}
