import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Answers HTTP/1.0 requests as HTTP/1.0. Hummingbird converts NIO's HTTP/1 parts to HTTP types,
/// which have no version: every answer said HTTP/1.1 and a 1.0 connection was left open, while
/// a 1.0 client reads a body without a length to the connection's close and expects the close
/// unless it asked for keep-alive. This handler sits before that conversion: a 1.0 request's
/// answer is 1.0, keeps the connection only when the client asked for it and the answer has a
/// Content-Length, and otherwise closes it once written.
final class HTTP10ResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The requests not answered yet, oldest first (answers go out in request order).
    private var requests = CircularBuffer<(version: HTTPVersion, keepAlive: Bool)>()
    private var closeAfterAnswer = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { requests.append((head.version, head.isKeepAlive)) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            guard let request = requests.first, request.version == .http1_0 else { return context.write(data, promise: promise) }
            let keepOpen = request.keepAlive && head.headers.contains(name: "content-length")
            head.version = .http1_0
            head.headers.replaceOrAdd(name: "connection", value: keepOpen ? "keep-alive" : "close")
            closeAfterAnswer = !keepOpen
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if !requests.isEmpty { requests.removeFirst() }
            guard closeAfterAnswer else { return context.write(data, promise: promise) }
            closeAfterAnswer = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            written.futureResult.whenComplete { _ in context.close(promise: nil) }
        }
    }
}

/// Hummingbird's HTTP/1 channel with `HTTP10ResponseHandler` before its conversion to HTTP types.
struct HTTP1ChannelWithVersions: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let channel: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.channel.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            // Right after NIO's request decoder: before the conversion to HTTP types (and before
            // the pipelining handler, when there is one: answers leave in request order either way).
            try operations.addHandler(HTTP10ResponseHandler(), position: .after(try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async { await channel.handle(value: value, logger: logger) }
}

extension HTTPServerBuilder {
    /// `http1(configuration:)`, answering HTTP/1.0 requests as HTTP/1.0 (`HTTP10ResponseHandler`).
    static func http1WithVersions(configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        .init { responder in HTTP1ChannelWithVersions(channel: HTTP1Channel(responder: responder, configuration: configuration)) }
    }
}
