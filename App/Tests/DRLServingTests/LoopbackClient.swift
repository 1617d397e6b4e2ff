import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client over a POSIX socket, so the tests talk to the real server the way
/// any client does (and can send what a well-behaved client library would not).
enum LoopbackClient {
    struct Answer {
        let status: Int
        let body: String
        /// Header names in lower case.
        var headers: [String: String] = [:]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    static func request(port: Int, method: String, path: String, body: String? = nil, headers: [String: String] = [:]) async -> Answer {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingRequest(port: port, method: method, path: path, body: body, headers: headers))
            }
        }
    }

    static func post(_ port: Int, _ path: String, _ body: String, headers: [String: String] = [:]) async -> Answer {
        await request(port: port, method: "POST", path: path, body: body, headers: headers)
    }
    static func get(_ port: Int, _ path: String) async -> Answer { await request(port: port, method: "GET", path: path) }

    /// A socket connected to the loopback port (close it with `close`).
    static func connected(to port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket: \(errno)")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(result == 0, "connect to port \(port): \(errno)")
        return fd
    }

    private static func blockingRequest(port: Int, method: String, path: String, body: String?, headers: [String: String]) -> Answer {
        let fd = connected(to: port)
        defer { close(fd) }
        let payload = Array((body ?? "").utf8)
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if body != nil { text += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        let bytes = Array((text + "\r\n").utf8) + payload
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may answer and close before reading an oversized body
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        let response = String(decoding: received, as: UTF8.self)
        guard let headerEnd = response.range(of: "\r\n\r\n") else { return Answer(status: 0, body: response) }
        let statusLine = response[..<headerEnd.lowerBound].split(separator: "\r\n").first ?? ""
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        var content = String(response[headerEnd.upperBound...])
        if response[..<headerEnd.lowerBound].lowercased().contains("transfer-encoding: chunked") { content = dechunk(content) }
        var fields: [String: String] = [:]
        for line in response[..<headerEnd.lowerBound].split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: status, body: content, headers: fields)
    }

    /// Sends `text` (a request cut short) and waits up to `limit` for the server to close the
    /// connection; returns how long that took, or nil when it was still open. An error answer may
    /// come before the close.
    static func secondsUntilClosed(port: Int, after text: String, limit: Int) async -> Double? {
        let talk = await exchange(port: port, text, limit: limit)
        return talk.closed ? talk.seconds : nil
    }

    /// Sends `text` as it is and reads for up to `limit` seconds: what came back, whether the
    /// server closed the connection, and after how long the reading ended.
    static func exchange(port: Int, _ text: String, limit: Int) async -> (text: String, closed: Bool, seconds: Double) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let fd = connected(to: port)
                defer { close(fd) }
                var timeout = timeval(tv_sec: limit, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let bytes = Array(text.utf8)
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL)) }
                let start = Date()
                var received: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 4_096)
                while true {
                    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                    if n > 0 { received += chunk[0..<n]; continue }
                    continuation.resume(returning: (String(decoding: received, as: UTF8.self), n == 0 || errno == ECONNRESET,
                                                    Date().timeIntervalSince(start)))
                    return
                }
            }
        }
    }

    private static func dechunk(_ text: String) -> String {
        var bytes = Substring(text), result = ""
        while let line = bytes.range(of: "\r\n"), let size = Int(bytes[..<line.lowerBound], radix: 16), size > 0 {
            let start = line.upperBound
            let end = bytes.utf8.index(start, offsetBy: size)
            result += bytes[start..<end]
            bytes = bytes[end...].dropFirst(2)
        }
        return result
    }
}
