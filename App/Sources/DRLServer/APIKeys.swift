import DRLData
import Foundation

/// Who may call which route: the keys of a keys file, each for one route or for all. A client
/// sends its key as `Authorization: Bearer KEY`; the server keeps only the keys' SHA-256 digests
/// and compares digests, so neither the time a comparison takes nor a dump of the server's memory
/// tells an attacker a key.
///
/// The file has one key per line, `ROUTE KEY`, where ROUTE is `recommend`, `feedback` or `*` (every
/// route); `#` starts a comment. A key is 16 to 256 printable ASCII characters without spaces
/// (`openssl rand -hex 32` makes one).
public struct APIKeys: Sendable {
    public enum Route: String, Sendable, CaseIterable { case recommend, feedback }

    /// What a request's credentials allow.
    public enum Verdict: Equatable, Sendable {
        /// The key is good for the route; `client` names it (a prefix of its digest) for rate limits and logs.
        case allowed(client: String)
        /// No `Authorization: Bearer` header (401).
        case missing
        /// A key that is not in the file, or not for this route (403).
        case forbidden
    }

    public struct FileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Each key's digest and the routes it opens.
    private let routes: [String: Set<Route>]

    public init(keys: [(route: Route?, key: String)]) {
        var routes: [String: Set<Route>] = [:]
        for (route, key) in keys { routes[Self.digest(key), default: []].formUnion(route.map { [$0] } ?? Set(Route.allCases)) }
        self.routes = routes
    }

    /// Reads a keys file (format above); every malformed line is refused with its number.
    public init(file path: String) throws(FileError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(description: "cannot read the API keys file '\(path)'") }
        guard let text = String(data: data, encoding: .utf8) else { throw FileError(description: "\(path): is not UTF-8 text") }
        var keys: [(route: Route?, key: String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            func refuse(_ reason: String) -> FileError { FileError(description: "\(path):\(number + 1): \(reason)") }
            guard words.count == 2 else { throw refuse("has \(words.count) words; a line is 'ROUTE KEY' (ROUTE: recommend, feedback or *)") }
            let route: Route?
            if words[0] == "*" { route = nil } else if let named = Route(rawValue: String(words[0])) { route = named } else {
                throw refuse("the route is '\(words[0])', not one of recommend, feedback, *")
            }
            let key = String(words[1])
            guard (16...256).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw refuse("a key must be 16 to 256 printable ASCII characters without spaces (this one has \(key.utf8.count) bytes)")
            }
            keys.append((route, key))
        }
        guard !keys.isEmpty else { throw FileError(description: "\(path): holds no key") }
        self.init(keys: keys)
    }

    /// The verdict on a request to `route` whose `Authorization` header is `authorization`.
    public func verdict(for route: Route, authorization: String?) -> Verdict {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return .missing }
        let key = authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces)
        let digest = Self.digest(key)
        guard routes[digest]?.contains(route) == true else { return .forbidden }
        return .allowed(client: "key:" + digest.prefix(12))
    }

    private static func digest(_ key: String) -> String { SHA256.hex(Array(key.utf8)) }
}
