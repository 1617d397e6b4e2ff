/// A failure while running: exit status 1 and "Error: ..." without the usage, where a
/// `ValidationError` is a usage error (64, with the usage).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
