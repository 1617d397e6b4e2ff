import DRLData
import DRLNN
import DRLServing

/// A request body the server refuses with 400, and why (the message names the field).
public struct BadRequest: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// The HTTP API's request bodies, decoded field by field from bytes a client may have written to
/// hurt: every field is type- and range-checked here, so that what reaches the service is a value
/// the service can validate against its models (ids, k, context columns).
public enum RequestBodies {
    // Each body's fields, built once rather than hashed again on every request.
    private static let recommendFields: Set = ["user_id", "context", "history", "k", "candidates", "exclude_seen", "timestamp"]
    private static let historyFields: Set = ["item_id", "event", "value", "timestamp"]
    private static let feedbackFields: Set = ["user_id", "item_id", "event", "value", "timestamp", "context", "impression_id", "position"]

    /// `POST /v1/recommend  {user_id, context?, history?, k?, candidates?, exclude_seen?, timestamp?}`
    public static func recommend(_ bytes: [UInt8]) throws(BadRequest) -> RecommendRequest {
        let fields = try JSONFields.parse(bytes)
        try fields.allowOnly(recommendFields)
        var request = RecommendRequest(user: try fields.requiredString("user_id"), k: try fields.integer("k") ?? 10)
        request.timestamp = try fields.integer("timestamp").map(Int64.init)
        request.context = try fields.numbers("context")
        request.candidates = try fields.strings("candidates")
        request.excludeSeen = try fields.bool("exclude_seen") ?? true
        if let history = try fields.array("history") {
            var items: [RecommendRequest.HistoryItem] = []
            for (k, entry) in history.enumerated() {
                let item = try JSONFields(entry, path: "history[\(k)]")
                try item.allowOnly(historyFields)
                items.append(.init(item: try item.requiredString("item_id"), event: try event(item),
                                   value: Float(try item.number("value") ?? 1), timestamp: Int64(try item.integer("timestamp") ?? 0)))
            }
            request.history = items
        }
        return request
    }

    /// `POST /v1/feedback  {user_id, item_id, event, value?, timestamp?, context?, impression_id?, position?}`
    public static func feedback(_ bytes: [UInt8]) throws(BadRequest) -> FeedbackRequest {
        let fields = try JSONFields.parse(bytes)
        try fields.allowOnly(feedbackFields)
        var request = FeedbackRequest(user: try fields.requiredString("user_id"), item: try fields.requiredString("item_id"),
                                      event: try event(fields), value: Float(try fields.number("value") ?? 1),
                                      timestamp: try fields.integer("timestamp").map(Int64.init), context: try fields.numbers("context"))
        let position = try fields.integer("position")
        if let impression = try fields.string("impression_id") {
            guard let position else {
                throw BadRequest(message: "'\(fields.name("position"))' is missing: feedback that names its impression_id gives the item's position in it")
            }
            request.impression = (impression, position)
        } else if position != nil {
            throw BadRequest(message: "'\(fields.name("position"))' is given without 'impression_id', the list it is a position in")
        }
        return request
    }

    private static func event(_ fields: JSONFields) throws(BadRequest) -> FeedbackKind {
        let name = try fields.requiredString("event")
        guard let kind = FeedbackKind(name: name) else {
            throw BadRequest(message: "'\(fields.name("event"))' is '\(name)', not one of \(FeedbackKind.allCases.map(\.name).joined(separator: ", "))")
        }
        return kind
    }
}
