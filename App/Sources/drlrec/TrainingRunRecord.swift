import DRLNN
import DRLTensor

/// What `drlrec train` records in every checkpoint it writes (metadata 'drlrec.run'), besides the
/// agent's hyperparameters and the simulator's settings, which have entries of their own: with
/// them, enough to run it again (`--from-checkpoint-config`).
struct TrainingRunRecord: Equatable {
    static let key = "drlrec.run"

    var version = DRLRecVersion.current
    var env: String, agent: String
    var seed: UInt64
    var steps: Int, evaluationInterval: Int, evaluationEpisodes: Int
    var stateEncoder: String?

    init(env: String, agent: String, seed: UInt64, steps: Int, evaluationInterval: Int, evaluationEpisodes: Int, stateEncoder: String?) {
        (self.env, self.agent, self.seed, self.steps) = (env, agent, seed, steps)
        (self.evaluationInterval, self.evaluationEpisodes, self.stateEncoder) = (evaluationInterval, evaluationEpisodes, stateEncoder)
    }

    /// One JSON object. The seed is a string: a JSON number holds integers exactly only to 2^53.
    var text: String {
        JSONLine([("drlrec_version", .string(version)), ("env", .string(env)), ("agent", .string(agent)), ("seed", .string(String(seed))),
                  ("steps", .int(steps)), ("evaluation_interval", .int(evaluationInterval)), ("evaluation_episodes", .int(evaluationEpisodes)),
                  ("state_encoder", stateEncoder.map { .string($0) } ?? .null)]).text
    }

    /// Reads `text` as `self.text` writes it; errors name `origin` and the field.
    init(text: String, origin: String) throws(CommandFailure) {
        func refuse(_ detail: String) -> CommandFailure { CommandFailure("\(origin): \(detail)") }
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(Array(text.utf8)) } catch { throw refuse("not valid JSON (\(error))") }
        guard case .object(let fields) = parsed else { throw refuse("must be a JSON object, not \(parsed.typeName)") }
        func string(_ key: String) throws(CommandFailure) -> String {
            guard case .string(let value)? = fields[key] else { throw refuse("field '\(key)' must be a string") }
            return value
        }
        func count(_ key: String) throws(CommandFailure) -> Int {
            guard case .number(let value)? = fields[key], value >= 1, value <= 1e15, value.rounded() == value else {
                throw refuse("field '\(key)' must be a positive integer")
            }
            return Int(value)
        }
        guard let seed = UInt64(try string("seed")) else { throw refuse("field 'seed' must be an unsigned integer in a string") }
        version = try string("drlrec_version")
        (env, agent, self.seed) = (try string("env"), try string("agent"), seed)
        (steps, evaluationInterval, evaluationEpisodes) = (try count("steps"), try count("evaluation_interval"), try count("evaluation_episodes"))
        switch fields["state_encoder"] {
        case .null?, nil: stateEncoder = nil
        case .string(let model)?: stateEncoder = model
        default: throw refuse("field 'state_encoder' must be a string or null")
        }
    }
}
