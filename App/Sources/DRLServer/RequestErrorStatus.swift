import DRLServing
import Hummingbird

/// The HTTP side of a refused request: what names something the server does not have (an item, a
/// user) is 404 Not Found, any other fault of the request 400 Bad Request; a list the server could
/// not log is 503 Service Unavailable. Kept out of DRLServing
/// so that the service speaks of requests, not of HTTP.
extension RequestError {
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .unknownItem, .unknownCandidates, .unknownUser, .unknownImpression: .notFound
        case .invalidField, .lineBreakInId, .unknownContextField: .badRequest
        case .inHistory(_, let error): error.httpStatus
        case .impressionNotLogged: .serviceUnavailable
        }
    }
}
