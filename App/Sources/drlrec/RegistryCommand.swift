import ArgumentParser
import DRLScenarios
import DRLServing
import Foundation

/// `drlrec registry`: the model registry's versions, lineage and what is in production.
struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "List, inspect, promote and roll back model versions.",
        discussion: """
        A registry is a folder: each version holds its checkpoint and a record of its parent, scenario, \
        data and configuration hashes, hyperparameters, metrics and creation time. Every change is \
        atomic, so a crash at any point leaves the previous state. A running `drlrec serve` picks up \
        promotions, rollbacks and rollouts within a second.
        """,
        subcommands: [List.self, Show.self, Lineage.self, Register.self, Promote.self, Rollback.self, Rollout.self, StopRollout.self]
    )

    struct Location: ParsableArguments {
        @Option(help: ArgumentHelp("The registry folder.", valueName: "dir"))
        var registry = ".drlrec/registry"

        /// The registry, which must exist except for `register`.
        func open(creating: Bool = false) throws -> ModelRegistry { try ModelRegistry(directory: registry, create: creating) }
    }

    /// Every subcommand's --json.
    struct Output: ParsableArguments {
        @Flag(help: "Print the result as JSON lines: one object per version or change.")
        var json = false
    }

    /// A version's record as a JSON line, `extra` after its fields: its hyperparameters as
    /// KEY=VALUE words, then its metrics as numbers under snake_case names (hr@10: hr_at_10).
    static func line(_ v: ModelVersion, _ extra: [(String, JSONLine.Value)] = []) -> JSONLine {
        let optional = { (value: String?) -> JSONLine.Value in value.map { .string($0) } ?? .null }
        let fields: [(String, JSONLine.Value)] = [
            ("version", .string(v.id)), ("kind", optional(v.kind)), ("parent", optional(v.parent)), ("scenario", .string(v.scenario)),
            ("created_at", .string(v.createdAt)), ("data_hash", .string(v.dataHash)), ("configuration_hash", .string(v.configurationHash)),
            ("checkpoint", .string(v.checkpoint)), ("checkpoint_hash", .string(v.checkpointHash)),
            ("hyperparameters", .string(v.hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))),
        ]
        let metrics = v.metrics.sorted { $0.key < $1.key }.map { metric in
            (metric.key.replacingOccurrences(of: "@", with: "_at_").replacingOccurrences(of: ".", with: "_"), JSONLine.Value.double(metric.value))
        }
        return JSONLine(fields + extra + metrics)
    }

    /// The event of a new version (of `fit`, `update`, `compress` and `registry register`).
    static func registered(_ version: ModelVersion, in registry: String) -> JSONLine {
        JSONLine([("event", .string("registered")), ("version", .string(version.id)), ("registry", .string(registry)),
                  ("parent", version.parent.map { .string($0) } ?? .null)])
    }

    /// The event of a promotion, with the off-policy gate's verdict when one was asked for.
    static func promoted(_ id: String, gate: String? = nil) -> JSONLine {
        JSONLine([("event", .string("promoted")), ("version", .string(id)), ("gate", gate.map { .string($0) } ?? .null)])
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every version, with what serves now.")
        @OptionGroup var location: Location
        @OptionGroup var output: Output

        func run() throws {
            let registry = try location.open()
            let state = try registry.state()
            var rows = [["version", "kind", "parent", "scenario", "created", "role", "metrics"]]
            for v in try registry.versions() {
                let role = v.id == state.production ? "production" : v.id == state.rollout?.candidate ? "candidate"
                    : state.history.contains(v.id) ? "previous" : nil
                if output.json {
                    print(RegistryCommand.line(v, [("role", role.map { .string($0) } ?? .null),
                                                   ("share", role == "candidate" ? .double(state.rollout!.share) : .null)]).text)
                    continue
                }
                let shown = role == "candidate" ? "candidate (\(Int((state.rollout!.share * 100).rounded()))%)" : role ?? ""
                let metrics = v.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ")
                rows.append([v.id, v.kind ?? "-", v.parent ?? "-", v.scenario, v.createdAt, shown, metrics])
            }
            if !output.json { printColumns(rows) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A version's full record, as JSON (with --json, one line as `registry list --json` prints it).")
        @OptionGroup var location: Location
        @OptionGroup var output: Output
        @Argument var version: String

        func run() throws {
            let record = try location.open().version(version)
            if output.json {
                print(RegistryCommand.line(record).text)
                return
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        }
    }

    struct Lineage: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A version and its ancestors, newest first.")
        @OptionGroup var location: Location
        @OptionGroup var output: Output
        @Argument var version: String

        func run() throws {
            var rows = [["version", "scenario", "data", "created", "hyperparameters"]]
            for v in try location.open().lineage(of: version) {
                if output.json {
                    print(RegistryCommand.line(v).text)
                    continue
                }
                rows.append([v.id, v.scenario, String(v.dataHash.prefix(12)), v.createdAt,
                             v.hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")])
            }
            if !output.json { printColumns(rows) }
        }
    }

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a servable checkpoint as a new version.")
        @OptionGroup var location: Location
        @OptionGroup var output: Output
        @Option(help: ArgumentHelp("The checkpoint: a next-item model (`drlrec fit`, `drlrec update`), an e-commerce ranker (`drlrec train --env ecommerce`) or an education tutor (`drlrec train --env education`).", valueName: "file"))
        var checkpoint: String
        @Option(help: "What it serves.") var scenario: String
        @Option(help: ArgumentHelp("The training data files, for the data hash.", valueName: "file")) var data: [String] = []
        @Option(help: "The version it was fine-tuned from.") var parent: String?

        func run() throws {
            // Only a checkpoint that the service can load (a kind it serves) enters the registry.
            do { _ = try ServableModelKinds.drlrec.load(checkpoint: checkpoint) } catch { throw CommandFailure("\(error)") }
            let version = try location.open(creating: true).register(checkpoint: checkpoint, parent: parent, scenario: scenario,
                                                        dataHash: data.isEmpty ? "" : try dataHash(data))
            print(output.json ? RegistryCommand.registered(version, in: location.registry).text : "registered \(version.id)")
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a version the production version.",
            discussion: "Given the served logs (--impressions, --feedback), only when the off-policy gate passes: see `drlrec ope served`.")
        @OptionGroup var location: Location
        @OptionGroup var output: Output
        @OptionGroup var gate: OffPolicyGateOptions
        @Argument var version: String
        func run() throws {
            let registry = try location.open()
            let checked = try gate.check(version, action: "promote", in: registry)
            try registry.promote(version, note: checked)
            print(output.json ? RegistryCommand.promoted(version, gate: checked).text : "\(version) is in production\(checked.map { " (\($0))" } ?? "")")
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put the previous production version back.")
        @OptionGroup var location: Location
        @OptionGroup var output: Output
        func run() throws {
            let version = try location.open().rollback()
            print(output.json ? JSONLine([("event", .string("rolled_back")), ("version", .string(version))]).text : "\(version) is in production again")
        }
    }

    struct Rollout: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Gray release: serve a candidate version to a share of users.",
            discussion: "Given the served logs (--impressions, --feedback), only when the off-policy gate passes: see `drlrec ope served`.")
        @OptionGroup var location: Location
        @OptionGroup var output: Output
        @OptionGroup var gate: OffPolicyGateOptions
        @Argument var version: String
        @Option(parsing: .unconditional, help: "The candidate's share of users, in (0, 1).") var share: Double
        func validate() throws {
            guard share > 0, share < 1 else { throw ValidationError("--share must be in (0, 1), got \(share)") }
        }
        func run() throws {
            let registry = try location.open()
            let checked = try gate.check(version, action: "rollout", in: registry)
            try registry.startRollout(version, share: share, note: checked.map { "share \(share); \($0)" })
            print(output.json ? JSONLine([("event", .string("rollout_started")), ("version", .string(version)), ("share", .double(share)),
                                          ("gate", checked.map { .string($0) } ?? .null)]).text
                  : "\(version) serves \(share * 100)% of users\(checked.map { " (\($0))" } ?? "")")
        }
    }

    struct StopRollout: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stop-rollout", abstract: "End the gray release without promoting its candidate.")
        @OptionGroup var location: Location
        @OptionGroup var output: Output
        @Option(help: "Why, for the audit trail.") var reason = "stopped by hand"
        func run() throws {
            let registry = try location.open()
            let candidate = try registry.state().rollout?.candidate
            try registry.stopRollout(reason: reason)
            print(output.json ? JSONLine([("event", .string("rollout_stopped")), ("version", candidate.map { .string($0) } ?? .null),
                                          ("reason", .string(reason))]).text : "rollout stopped")
        }
    }
}
