import DRLNN

/// The recommend answer and the client's requests are written by hand (`JSONText`):
/// Foundation's JSONSerialization took about 260 µs for a ten-item answer on a 2-core EPYC (more
/// than scoring the model), and 120 µs more once every item carried its propensity.
extension JSONText {
    /// An object of already-written values, keys in order.
    static func object(_ fields: [(key: String, value: String)]) -> String {
        "{" + fields.map { string($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
    }
}
