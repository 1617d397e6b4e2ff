import DRLSimulation

/// The recommendation platforms DRLRec simulates, with the defaults its recipes share: where a
/// trained agent is saved, how long it trains.
public enum Scenario: String, CaseIterable, Sendable {
    case ecommerce, video, education

    /// Where `drlrec train --env SCENARIO` saves by default, and where `drlrec abtest` looks.
    public var defaultCheckpoint: String { ".drlrec/\(rawValue).safetensors" }

    /// Training steps: 40k on e-commerce (20k left low-frequency users' conversion level with
    /// LinUCB's; 40k raised it), 20k on the video feed, 2M learner steps in education (8 learners
    /// at once).
    public var defaultSteps: Int {
        switch self {
        case .ecommerce: 40_000
        case .video: 20_000
        case .education: 2_000_000
        }
    }

    /// The reward of each feedback tier on this platform (what its served lists are credited with).
    public var rewardMapping: RewardMapping {
        switch self {
        case .ecommerce: .ecommerce
        case .video: .video
        case .education: .education
        }
    }

    /// The command that trains this scenario's agent, for messages that tell the user what to run.
    public var trainCommand: String { "drlrec train --env \(rawValue)" }
}
