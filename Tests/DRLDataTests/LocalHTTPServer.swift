import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-thread HTTP/1.0 server on 127.0.0.1 for the tests: GET of a path in `files` answers its
/// bytes, any other path 404; one connection at a time, closed after the answer.
final class LocalHTTPServer: @unchecked Sendable {
    let port: Int
    private let socket: Int32
    private let files: [String: [UInt8]]

    init(files: [String: [UInt8]]) throws {
        self.files = files
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 8) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        (socket, port) = (fd, Int(UInt16(bigEndian: address.sin_port)))
        Thread.detachNewThread { [self] in serve() }
    }

    /// Stops accepting: the listening socket is shut, which ends the accept loop.
    func stop() { shutdown(socket, Int32(SHUT_RDWR)); close(socket) }

    private func serve() {
        while true {
            let connection = accept(socket, nil, nil)
            guard connection >= 0 else { return }
            var request: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
            while !request.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
                let n = read(connection, &buffer, buffer.count)
                guard n > 0 else { break }
                request += buffer[0..<n]
            }
            let path = String(decoding: request, as: UTF8.self).split(separator: " ").dropFirst().first.map(String.init) ?? ""
            let body = files[path]
            let answer = Array("HTTP/1.0 \(body == nil ? "404 Not Found" : "200 OK")\r\nContent-Length: \(body?.count ?? 0)\r\n\r\n".utf8) + (body ?? [])
            var sent = 0
            while sent < answer.count {
                let n = answer.withUnsafeBytes { write(connection, $0.baseAddress! + sent, $0.count - sent) }
                guard n > 0 else { break }
                sent += n
            }
            close(connection)
        }
    }
}
