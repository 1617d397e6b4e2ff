import Hummingbird

/// The server's request context: Hummingbird's, plus the peer's address, which names a client for
/// the rate limit when the server has no API keys.
struct ServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer's IP address (or socket path), "unknown" when the channel has none.
    let peer: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        let address = source.channel.remoteAddress
        peer = "address:" + (address?.ipAddress ?? address?.pathname ?? "unknown")
    }
}
