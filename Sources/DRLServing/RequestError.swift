/// A request that cannot be served as asked, saying what is wrong with it and nothing about how
/// the answer travels: a transport maps each case to its own kind of refusal (DRLServer to HTTP
/// statuses), and `description` is the message for the caller.
public indirect enum RequestError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A field's value is empty, out of range or not finite: the field as the message names it
    /// ("user_id", "k", "context field 'age'") and what is wrong with it ("is empty").
    case invalidField(String, reason: String)
    /// An id with a line break or a NUL character, which the logs' lines cannot hold.
    case lineBreakInId(String)
    /// An item that is not in the served catalogue.
    case unknownItem(String)
    /// Candidate items that are not in the served catalogue.
    case unknownCandidates([String])
    /// A user with no recorded feedback whose request brings no history either.
    case unknownUser(String)
    /// A context field that is not one of the model's context columns.
    case unknownContextField(String, known: [String])
    /// What is wrong with the history entry at `index` of the request.
    case inHistory(index: Int, RequestError)
    /// Feedback names a list the server has not served lately (or serves without an impression log).
    case unknownImpression(String)
    /// The list could not be written to the impression log, so it is not served (an unlogged list
    /// would be missing from off-policy learning and evaluation).
    case impressionNotLogged(String)

    public var description: String {
        switch self {
        case .invalidField(let name, let reason): "\(name) \(reason)"
        case .lineBreakInId: "ids may not contain line breaks or NUL characters"
        case .unknownItem(let id): "unknown item '\(id)'"
        case .unknownCandidates(let ids): "unknown candidate items: \(ids.prefix(10).joined(separator: ", "))"
        case .unknownUser(let id):
            "unknown user '\(id)': no feedback has been recorded for them; send their history (an empty list for a new user)"
        case .unknownContextField(let name, let known): "context has the unknown field '\(name)'; the model's context fields are \(known)"
        case .inHistory(let index, let error): "history[\(index)]: \(error)"
        case .unknownImpression(let id):
            "unknown impression '\(id)': it is not among the lists this server served lately (with an impression log, it keeps the latest ones)"
        case .impressionNotLogged(let reason): "the list could not be logged, so it is not served: \(reason)"
        }
    }
}
