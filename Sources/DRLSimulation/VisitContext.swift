/// Checks of a served visit's context (the platforms' `contextProblem`): one rule per column.
enum VisitContext {
    /// A column's rule: whether a value is allowed, and the allowed values in words.
    typealias Rule = (allows: (Float) -> Bool, expected: String)

    /// A whole number in `range`.
    static func whole(in range: ClosedRange<Int>, _ expected: String) -> Rule {
        ({ $0.rounded() == $0 && Float(range.lowerBound) <= $0 && $0 <= Float(range.upperBound) }, expected)
    }

    /// What is wrong with `context` (nil when every column keeps its rule): a count that does not
    /// match the columns, or the first value outside its rule, named with its column.
    static func problem(_ context: [Float], columns: [String], rules: [Rule]) -> String? {
        guard context.count == columns.count else { return "has \(context.count) values for the columns \(columns)" }
        for k in context.indices where !rules[k].allows(context[k]) {
            return "field '\(columns[k])' is \(context[k]); it must be \(rules[k].expected)"
        }
        return nil
    }
}
