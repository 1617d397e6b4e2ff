import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// DRLRec's own policy for the Open Bandit Dataset: how it turns the reward model's click
/// estimates q̂(x, a) into action probabilities per round. The softmax, and ε-greedy with ε > 0,
/// keep every item possible, so that importance weights stay finite against any logging policy.
public enum OpenBanditPolicyRule: Sendable, Equatable, CustomStringConvertible {
    /// π(a | x) = (1 − ε)·[a = argmax q̂(x, ·)] + ε/items.
    case greedy(exploration: Float)
    /// π(a | x) ∝ exp(logit q̂(x, a) / τ): softer than greedy, so more logged rounds agree with it.
    case softmax(temperature: Float)

    static let ruleKey = "drlrec.obd.policy", explorationKey = "drlrec.obd.exploration", temperatureKey = "drlrec.obd.temperature"

    public var description: String {
        switch self {
        case .greedy(let exploration): "ε-greedy (ε \(exploration))"
        case .softmax(let temperature): "softmax over the log-odds (τ \(temperature))"
        }
    }

    /// Action probabilities [rounds, items] from click estimates [rounds, items].
    public func probabilities(estimates: Tensor) -> Tensor {
        let (rounds, items) = estimates.shape.matrix
        switch self {
        case .greedy(let exploration):
            require((0...1).contains(exploration), "OpenBanditPolicyRule: exploration \(exploration) must be in [0, 1]")
            var probabilities = Tensor(shape: Shape(rounds, items), repeating: exploration / Float(items))
            for i in 0..<rounds {
                var best = 0
                for a in 1..<items where estimates[i, a] > estimates[i, best] { best = a }
                probabilities[i, best] += 1 - exploration
            }
            return probabilities
        case .softmax(let temperature):
            require(temperature > 0, "OpenBanditPolicyRule: temperature \(temperature) must be positive")
            var logits = Tensor(zeros: Shape(rounds, items))
            for i in 0..<rounds {
                for a in 0..<items {
                    let p = min(max(estimates[i, a], 1e-7), 1 - 1e-7)
                    logits[i, a] = log(p / (1 - p)) / temperature
                }
            }
            return DRLTensor.softmax(logits)
        }
    }

    /// The rule as a saved policy's metadata.
    public var metadata: [String: String] {
        switch self {
        case .greedy(let exploration): [Self.ruleKey: "greedy", Self.explorationKey: "\(exploration)"]
        case .softmax(let temperature): [Self.ruleKey: "softmax", Self.temperatureKey: "\(temperature)"]
        }
    }

    /// The rule a saved policy's metadata describes (files written before the softmax rule are
    /// ε-greedy and name only ε), or what is missing or out of range.
    public static func from(metadata: [String: String]) -> Result<OpenBanditPolicyRule, PolicyMetadataError> {
        switch metadata[ruleKey] ?? "greedy" {
        case "greedy":
            guard let exploration = metadata[explorationKey].flatMap(Float.init), (0...1).contains(exploration) else {
                return .failure(PolicyMetadataError(key: explorationKey, "is missing or not in [0, 1]"))
            }
            return .success(.greedy(exploration: exploration))
        case "softmax":
            guard let temperature = metadata[temperatureKey].flatMap(Float.init), temperature > 0, temperature.isFinite else {
                return .failure(PolicyMetadataError(key: temperatureKey, "is missing or not a positive number"))
            }
            return .success(.softmax(temperature: temperature))
        case let other:
            return .failure(PolicyMetadataError(key: ruleKey, "'\(other)' is not greedy or softmax"))
        }
    }
}

/// A saved Open Bandit policy whose metadata does not describe its rule.
public struct PolicyMetadataError: Error, CustomStringConvertible, Sendable {
    public let key: String, message: String
    init(key: String, _ message: String) { (self.key, self.message) = (key, message) }
    public var description: String { "metadata '\(key)' \(message)" }
}
