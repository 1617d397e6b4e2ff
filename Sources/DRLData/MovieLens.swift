/// MovieLens-100K (GroupLens) as `drlrec data fetch movielens` leaves it: RecBole's atomic files,
/// tab-separated with a typed header (`user_id:token`, …). Each rating becomes a `rating`
/// interaction whose value is the rating (1 to 5), with the rater's age and gender (1 for women)
/// as context; the genres of each movie are kept beside.
public enum MovieLens100K {
    public static let ratingsFile = "ml-100k.inter", usersFile = "ml-100k.user", itemsFile = "ml-100k.item"

    /// The interactions (in file order) and each movie's genres, by the interactions' item index.
    public static func load(directory: String) throws(DataFileError) -> (interactions: LoggedInteractions, genres: [[String]]) {
        let users = try table(directory + "/" + usersFile, columns: ["user_id", "age", "gender"])
        var demographics: [String: [Float]] = [:]
        for row in users.rows {
            guard let age = Float(row.fields[1]) else { throw DataFileError(file: users.path, line: row.line, column: "age", "'\(row.fields[1])' is not a number") }
            guard ["M", "F"].contains(row.fields[2]) else {
                throw DataFileError(file: users.path, line: row.line, column: "gender", "'\(row.fields[2])' is neither M nor F")
            }
            demographics[row.fields[0]] = [age, row.fields[2] == "F" ? 1 : 0]
        }
        let ratings = try table(directory + "/" + ratingsFile, columns: ["user_id", "item_id", "rating", "timestamp"])
        var interactions = LoggedInteractions(contextColumns: ["age", "female"])
        for row in ratings.rows {
            let f = row.fields
            guard let features = demographics[f[0]] else {
                throw DataFileError(file: ratings.path, line: row.line, column: "user_id", "user '\(f[0])' is not in \(usersFile)")
            }
            guard let rating = Float(f[2]), (1...5).contains(rating) else {
                throw DataFileError(file: ratings.path, line: row.line, column: "rating", "'\(f[2])' is not a rating from 1 to 5")
            }
            guard let time = Double(f[3]), time.rounded() == time else {
                throw DataFileError(file: ratings.path, line: row.line, column: "timestamp", "'\(f[3])' is not a whole number of seconds")
            }
            interactions.append(user: f[0], item: f[1], timestamp: Int64(time), event: .rating, value: rating, context: features)
        }
        let items = try table(directory + "/" + itemsFile, columns: ["item_id", "class"])
        var genresById: [String: [String]] = [:]
        for row in items.rows { genresById[row.fields[0]] = row.fields[1].split(separator: " ").map(String.init) }
        return (interactions, interactions.itemIds.map { genresById[$0] ?? [] })
    }

    /// The named columns of a RecBole atomic file, row by row with line numbers.
    static func table(_ path: String, columns: [String]) throws(DataFileError) -> (path: String, rows: [(line: Int, fields: [String])]) {
        var positions: [Int] = [], width = 0
        var rows: [(line: Int, fields: [String])] = []
        let lines = try forEachLine(of: path, hint: "; run `drlrec data fetch movielens` first") { lineNumber, text throws(DataFileError) in
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if lineNumber == 1 {
                // "user_id:token" names the column user_id.
                let names = fields.map { String($0.split(separator: ":").first ?? "") }
                for name in columns where !names.contains(name) {
                    throw DataFileError(file: path, line: 1, column: name, "the header lacks the column (it has \(names))")
                }
                positions = columns.map { names.firstIndex(of: $0)! }
                width = names.count
                return
            }
            guard fields.count == width else { throw DataFileError(file: path, line: lineNumber, "has \(fields.count) fields; the header has \(width)") }
            rows.append((lineNumber, positions.map { fields[$0] }))
        }.line
        guard lines > 0 else { throw DataFileError(file: path, line: 1, "the file is empty") }
        return (path, rows)
    }
}
