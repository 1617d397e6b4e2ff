import DRLNN
import Hummingbird

/// Answers a request for a known path with a method it does not serve 405 Method Not Allowed, with
/// the `Allow` header (RFC 9110 §15.5.6), rather than the router's 404: the path exists. Added after
/// the routes, so only requests no route matched reach it.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each path (with its leading slash) and the methods it serves.
    let allowed: [String: [HTTPRequest.Method]]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let methods = allowed[request.uri.path], !methods.contains(request.method) else { return try await next(request, context) }
        var headers = HTTPFields()
        headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
        headers[.contentType] = "application/json"
        let message = "\(request.uri.path) answers \(methods.map(\.rawValue).joined(separator: " and ")), not \(request.method.rawValue)"
        return Response(status: .methodNotAllowed, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: JSONText.object([("error", JSONText.string(message))]))))
    }
}
