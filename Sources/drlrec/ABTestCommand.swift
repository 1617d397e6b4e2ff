import ArgumentParser
import DRLAgents
import DRLNN
import DRLRecommend
import Foundation

struct ABTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abtest",
        abstract: "Compare two recommenders on the same simulated users, with bootstrap confidence intervals.",
        discussion: """
        Control and treatment each serve the same --users users (user u is seeded with --seed + u in \
        both arms). For every metric the table shows both arms, the difference (treatment − control), \
        the relative change and a 95% paired-bootstrap interval of the difference over users. \
        A policy is random, popularity, myopic (the greedy content-based recommender), mmr (its \
        diversified form), or the path of a checkpoint written by `drlrec train --env ecommerce`.
        """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable { case ecommerce }

    @Option(help: "Scenario: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var env: Scenario = .ecommerce

    @Option(help: "Control policy (default: mmr, the strongest baseline).")
    var control: String = "mmr"

    @Option(help: ArgumentHelp("Treatment policy or checkpoint (default: the agent `drlrec train --env ecommerce` saved).", valueName: "policy|path"))
    var treatment: String = EcommerceSetup.defaultCheckpoint

    @Option(help: "Simulated users per arm.")
    var users: Int = 2_000

    @Option(help: "Seed of the population (user u gets seed + u).")
    var seed: UInt64 = 0

    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1_000

    @Flag(help: "Print one JSON object per metric.")
    var json = false

    func validate() throws {
        guard users >= 2 else { throw ValidationError("--users must be at least 2, got \(users)") }
        guard resamples >= 100 else { throw ValidationError("--resamples must be at least 100, got \(resamples)") }
    }

    func run() throws {
        let simulator = EcommerceSimulator()
        let arms = try [control, treatment].map { try policy($0, for: simulator) }
        var reports: [EcommerceReport] = []
        for (label, policy) in zip(["control", "treatment"], arms) {
            FileHandle.standardError.write(Data("simulating the \(label) (\(policy.name)) on \(users) users...\n".utf8))
            let start = Sampler.now()
            reports.append(simulatePopulation(policy, on: simulator, users: users, seed: seed))
            FileHandle.standardError.write(Data(String(format: "  done in %.1f s\n", Sampler.now() - start).utf8))
        }
        let rows = compare(control: reports[0], treatment: reports[1], resamples: resamples, seed: seed)
        if json {
            for row in rows {
                print(JSONLine([
                    ("metric", .string(row.metric)), ("control", .float(row.control)), ("treatment", .float(row.treatment)),
                    ("diff", .float(row.difference)), ("relative_change", row.relativeChange.map { .float($0) } ?? .null),
                    ("ci_low", .float(row.ciLow)), ("ci_high", .float(row.ciHigh)), ("significant", .bool(row.isSignificant)),
                    ("control_policy", .string(arms[0].name)), ("treatment_policy", .string(arms[1].name)), ("users", .int(users)),
                ]).text)
            }
            return
        }
        print("\(env.rawValue): control \(arms[0].name), treatment \(arms[1].name), \(users) paired users, 95% bootstrap intervals")
        let header = ["metric", "control", "treatment", "diff", "change", "95% CI of diff", ""]
        var table = [header]
        for row in rows {
            table.append([row.metric, format(row.control), format(row.treatment), format(row.difference),
                          row.relativeChange.map { String(format: "%+.1f%%", 100 * $0) } ?? "-",
                          "[\(format(row.ciLow)), \(format(row.ciHigh))]", row.isSignificant ? "*" : ""])
        }
        let widths = header.indices.map { column in table.map { $0[column].count }.max()! }
        for line in table {
            print(line.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        print("* the interval excludes 0")
    }

    private func format(_ value: Float) -> String { String(format: abs(value) >= 10 ? "%.2f" : "%.4f", value) }

    /// A baseline by name, or the agent in a checkpoint.
    private func policy(_ name: String, for simulator: EcommerceSimulator) throws -> SlatePolicy {
        switch name {
        case "random": return RandomPolicy(seed: seed)
        case "popularity": return PopularityPolicy(catalogue: simulator.catalogue)
        case "myopic": return MyopicGreedyPolicy(catalogue: simulator.catalogue)
        case "mmr": return DiversifiedGreedyPolicy(catalogue: simulator.catalogue)
        default:
            guard FileManager.default.fileExists(atPath: name) else {
                throw ValidationError("'\(name)' is neither a policy (random, popularity, myopic, mmr) nor a checkpoint file"
                                      + (name == EcommerceSetup.defaultCheckpoint ? "; train one first with `drlrec train --env ecommerce`" : ""))
            }
            do {
                let kind = try SafeTensors.read(from: name).metadata["drlrec.agent"] ?? "?"
                guard kind == "sac" || kind == "td3" else {
                    throw ValidationError("\(name) holds a '\(kind)' agent; the e-commerce A/B test needs one written by `drlrec train --env ecommerce` (sac or td3)")
                }
                let agent = EcommerceSetup.agent(kind, observationDimension: simulator.observationDimension, seed: 0)
                try agent.load(from: name)
                return WeightedRankingPolicy(name: "\(kind) (\(name))", agent: agent, catalogue: simulator.catalogue)
            } catch let error as CheckpointError {
                throw ValidationError("\(error)")
            }
        }
    }
}
