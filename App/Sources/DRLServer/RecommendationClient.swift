import DRLData
import DRLNN
import DRLServing
import NIOCore
import NIOHTTP1
import NIOPosix

/// A client of `drlrec serve`'s API over HTTP/1.1: one keep-alive connection, one request at a
/// time, opened again when the server closed it. A request the server answered with an error
/// status throws `RecommendationClient.Refused` (with the server's message); one that got no
/// answer (the server unreachable, or gone in the middle) throws `Unanswered`: it may or may not
/// have taken effect, and the caller decides whether to send it again.
public actor RecommendationClient: RecommendationEndpoint {
    /// The server answered with an error status.
    public struct Refused: Error, CustomStringConvertible {
        public let status: Int, message: String
        public var description: String { "the server answered \(status): \(message)" }
    }

    /// No answer came: the connection could not be made, or broke before the answer was read.
    public struct Unanswered: Error, CustomStringConvertible {
        public let description: String
    }

    public let host: String, port: Int
    /// A request without an answer after this long is given up (and its connection closed).
    public let timeout: TimeAmount
    private var channel: Channel?
    private var collector: ResponseCollector?

    public init(host: String = "127.0.0.1", port: Int, timeout: TimeAmount = .seconds(30)) {
        (self.host, self.port, self.timeout) = (host, port, timeout)
    }

    /// `POST /v1/recommend`.
    public func recommend(_ request: RecommendRequest) async throws -> Recommendation {
        var fields: [(key: String, value: String)] = [("user_id", JSONText.string(request.user)), ("k", String(request.k)),
                                                       ("exclude_seen", request.excludeSeen ? "true" : "false")]
        if !request.context.isEmpty { fields.append(("context", Self.numbers(request.context))) }
        if let timestamp = request.timestamp { fields.append(("timestamp", String(timestamp))) }
        if let candidates = request.candidates { fields.append(("candidates", "[" + candidates.map(JSONText.string).joined(separator: ",") + "]")) }
        if let history = request.history {
            fields.append(("history", "[" + history.map {
                JSONText.object([("item_id", JSONText.string($0.item)), ("event", JSONText.string($0.event.name)),
                             ("value", JSONText.number(Double($0.value))), ("timestamp", String($0.timestamp))])
            }.joined(separator: ",") + "]"))
        }
        let answer = try await post("/v1/recommend", JSONText.object(fields))
        return try Self.recommendation(answer)
    }

    /// `POST /v1/feedback`: returns once the server acknowledged it (it is then on disk).
    public func feedback(_ request: FeedbackRequest) async throws {
        var fields: [(key: String, value: String)] = [("user_id", JSONText.string(request.user)), ("item_id", JSONText.string(request.item)),
                                                       ("event", JSONText.string(request.event.name)), ("value", JSONText.number(Double(request.value)))]
        if let timestamp = request.timestamp { fields.append(("timestamp", String(timestamp))) }
        if !request.context.isEmpty { fields.append(("context", Self.numbers(request.context))) }
        if let impression = request.impression {
            fields += [("impression_id", JSONText.string(impression.id)), ("position", String(impression.position))]
        }
        _ = try await post("/v1/feedback", JSONText.object(fields))
    }

    /// `GET /healthz`: the production version and the candidate (with its share) the server serves.
    public func health() async throws -> (production: String?, candidate: String?) {
        guard case .object(let fields) = try await send(.GET, "/healthz", body: nil) else { throw Unanswered(description: "/healthz answered no object") }
        func text(_ key: String) -> String? { if case .string(let s) = fields[key], !s.isEmpty { s } else { nil } }
        return (text("production"), text("candidate"))
    }

    /// Closes the connection (the next request opens another).
    public func close() async {
        if let channel { try? await channel.close() }
        channel = nil
        collector = nil
    }

    private func post(_ path: String, _ body: String) async throws -> JSONValue { try await send(.POST, path, body: body) }

    private func send(_ method: HTTPMethod, _ path: String, body: String?) async throws -> JSONValue {
        let (channel, collector) = try await connection()
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        var buffer: ByteBuffer?
        if let body {
            buffer = channel.allocator.buffer(string: body)
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(buffer!.readableBytes))
        }
        let promise = channel.eventLoop.makePromise(of: (status: HTTPResponseStatus, body: ByteBuffer).self)
        let timeout = self.timeout, requestHead = head, payload = buffer
        channel.eventLoop.execute {
            collector.expect(promise)
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            if let payload { channel.write(HTTPClientRequestPart.body(.byteBuffer(payload)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let deadline = channel.eventLoop.scheduleTask(in: timeout) {
                promise.fail(Unanswered(description: "no answer to \(method) \(path) within \(timeout.nanoseconds / 1_000_000_000) s"))
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { _ in deadline.cancel() }
        }
        let answer: (status: HTTPResponseStatus, body: ByteBuffer)
        do {
            answer = try await promise.futureResult.get()
        } catch {
            await close()
            throw error as? Unanswered ?? Unanswered(description: "\(method) \(path) to \(host):\(port) got no answer: \(error)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(answer.body.readableBytesView)) } catch {
            throw Refused(status: Int(answer.status.code), message: "the answer is not JSON: \(error)")
        }
        guard answer.status == .ok else {
            if case .object(let fields) = value, case .string(let message) = fields["error"] { throw Refused(status: Int(answer.status.code), message: message) }
            throw Refused(status: Int(answer.status.code), message: "\(value)")
        }
        return value
    }

    private func connection() async throws -> (Channel, ResponseCollector) {
        if let channel, channel.isActive, let collector { return (channel, collector) }
        await close()
        let collector = ResponseCollector()
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).get()
            (self.channel, self.collector) = (channel, collector)
            return (channel, collector)
        } catch {
            throw Unanswered(description: "cannot connect to \(host):\(port): \(error)")
        }
    }

    private static func numbers(_ values: [String: Double]) -> String {
        JSONText.object(values.sorted { $0.key < $1.key }.map { ($0.key, JSONText.number($0.value)) })
    }

    /// The recommend answer, every field checked.
    static func recommendation(_ value: JSONValue) throws -> Recommendation {
        func bad(_ what: String) -> Refused { Refused(status: 200, message: "the recommend answer \(what)") }
        guard case .object(let fields) = value, case .array(let entries)? = fields["items"], case .string(let armName)? = fields["arm"],
              let arm = TrafficSplit.Arm(rawValue: armName) else { throw bad("has no items or arm") }
        var items: [(id: String, score: Float, propensity: Double)] = []
        for entry in entries {
            guard case .object(let item) = entry, case .string(let id)? = item["item_id"], case .number(let propensity)? = item["propensity"] else {
                throw bad("has an item without item_id or propensity")
            }
            let score: Float = if case .number(let s)? = item["score"] { Float(s) } else { .nan }
            items.append((id, score, propensity))
        }
        var answer = Recommendation(items: items, version: nil, arm: arm, fallback: nil, impression: nil)
        if case .string(let version)? = fields["version"] { answer.version = version }
        if case .string(let impression)? = fields["impression_id"] { answer.impression = impression }
        if case .object(let fallback)? = fields["fallback"], case .string(let reason)? = fallback["reason"], let fault = ModelFault(rawValue: reason),
           case .string(let servedBy)? = fallback["served_by"] {
            answer.fallback = .init(fault: fault, servedBy: servedBy)
        }
        return answer
    }
}

/// Collects one HTTP answer at a time on the channel's event loop and completes the waiting
/// request's promise (touched only on that loop).
private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    private var pending: EventLoopPromise<(status: HTTPResponseStatus, body: ByteBuffer)>?
    private var status = HTTPResponseStatus.ok
    private var body = ByteBuffer()

    func expect(_ promise: EventLoopPromise<(status: HTTPResponseStatus, body: ByteBuffer)>) { pending = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            pending?.succeed((status, body))
            pending = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(ChannelError.ioOnClosedChannel)
        pending = nil
        context.fireChannelInactive()
    }
}
