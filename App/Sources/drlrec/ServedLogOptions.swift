import ArgumentParser
import Foundation
import DRLData
import DRLEvaluation
import DRLSimulation

/// A service's own logs, as an off-policy estimate reads them: the impression log (`drlrec serve
/// --impressions`), the feedback log, and how feedback becomes reward.
struct ServedLogOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The impression log the server wrote (`drlrec serve --impressions`).", valueName: "file"))
    var impressions: String?

    @Option(help: ArgumentHelp("The feedback log (the registry's feedback.csv, or `drlrec serve --feedback`): rows naming a served list and position are its rewards, and every row rebuilds its user's history.", valueName: "file"))
    var feedback: String?

    @Option(help: ArgumentHelp("How feedback becomes reward: ecommerce (click 1, add to cart 3, wishlist 2, purchase 10), video (the watched fraction past 30%, full play 1, like 2, playlist 2, share 4, subscribe 6, skip −0.1), education (click 0.5, completion 5), or kind=weight pairs such as click=1,purchase=10.", valueName: "rewards"))
    var reward = "ecommerce"

    var given: Bool { impressions != nil }

    func validate() throws {
        if impressions != nil, feedback == nil { throw ValidationError("--impressions needs the feedback log too (--feedback)") }
        _ = try mapping()
    }

    func mapping() throws -> RewardMapping {
        switch reward {
        case "ecommerce": return .ecommerce
        case "video": return .video
        case "education": return .education
        default:
            var mapping = RewardMapping()
            for pair in reward.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let kind = FeedbackKind(name: parts[0]), let weight = Float(parts[1]), weight.isFinite else {
                    throw ValidationError("--reward: '\(pair)' is not kind=weight with a feedback kind (\(FeedbackKind.allCases.map(\.name).joined(separator: ", "))) and a finite weight; or name ecommerce, video or education")
                }
                mapping[kind] = weight
            }
            return mapping
        }
    }

    /// The served lists joined with their rewards, and the feedback log.
    func load() throws -> (log: ServedSlateLog, feedback: LoggedInteractions) {
        guard let impressions, let feedback else { throw ValidationError("give the served logs: --impressions and --feedback") }
        let mapping = try mapping()
        do {
            let shown = try LoggedInteractions.read(csv: impressions), answered = try LoggedInteractions.read(csv: feedback)
            let log = try ServedSlateLog(impressions: shown, named: impressions, feedback: answered, named: feedback) { kind, value in
                Double(mapping.reward(for: Feedback(kind, value: value)))
            }
            return (log, answered)
        } catch { throw CommandFailure("\(error)") }
    }
}
