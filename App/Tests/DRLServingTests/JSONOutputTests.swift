import DRLNN
import Foundation
import Testing

/// With --json, every command prints its results as JSON objects, one a line, on standard output
/// (progress stays on standard error); `--out` names the file a command writes, under its former
/// names too.
@Suite struct JSONOutputTests {
    /// A small synthetic log (60 users walking a ring of 24 items), `drlrec data synthesize` and
    /// `drlrec fit` run on it with --json, and the checkpoint fit wrote; made once.
    struct Fitted {
        let log: String, checkpoint: String, registry: String
        let synthesized: [[String: JSONValue]], fitted: [[String: JSONValue]]
    }

    static let fitted = Result { () throws -> Fitted in
        let directory = Fixtures.scratchDirectory("json-output")
        let log = directory + "/log.csv", checkpoint = directory + "/model.safetensors", registry = directory + "/fit-registry"
        let synthesized = try json(["data", "synthesize", "--users", "60", "--items", "24", "--events", "12", "--jump", "0", "--seed", "4", "--out", log])
        let fitted = try json(["fit", "--data", log, "--epochs", "2", "--out", checkpoint, "--registry", registry, "--promote"])
        return Fitted(log: log, checkpoint: checkpoint, registry: registry, synthesized: synthesized, fitted: fitted)
    }

    /// Runs `drlrec` with `arguments` and --json: it must succeed and print only JSON objects.
    static func json(_ arguments: [String]) throws -> [[String: JSONValue]] {
        let result = try CommandLineTests.run(arguments + ["--json"])
        try #require(result.status == 0, "drlrec \(arguments.joined(separator: " ")): \(result.error)")
        let lines = result.output.split(separator: "\n")
        let objects = lines.compactMap { line -> [String: JSONValue]? in
            guard case .object(let fields)? = try? JSONParser.parse(Array(line.utf8)) else { return nil }
            return fields
        }
        try #require(!lines.isEmpty && objects.count == lines.count, "not one JSON object a line: \(result.output)")
        return objects
    }

    /// A new registry holding the fitted checkpoint as v1.
    static func registryWithTheModel(_ name: String) throws -> String {
        let registry = Fixtures.scratchDirectory(name) + "/registry"
        let registered = try json(["registry", "register", "--checkpoint", try fitted.get().checkpoint, "--scenario", "synthetic", "--registry", registry])
        #expect(registered == [["event": .string("registered"), "version": .string("v1"), "registry": .string(registry), "parent": .null]])
        return registry
    }

    static func isShare(_ value: JSONValue?) -> Bool {
        guard case .number(let x)? = value else { return false }
        return (0...1).contains(x)
    }

    @Test func dataSynthesizePrintsWhatItWrote() throws {
        let fitted = try Self.fitted.get()
        #expect(fitted.synthesized == [["event": .string("synthesized"), "interactions": .number(720), "users": .number(60),
                                        "items": .number(24), "out": .string(fitted.log)]])
    }

    @Test func fitPrintsTheModelThenItsRegistrationAndPromotion() throws {
        let all = try Self.fitted.get()
        // A progress event per epoch comes first (2 epochs), with the epoch and the upper bound of the time left.
        let progress = all.fitted.filter { $0["event"] == .string("progress") }
        #expect(progress.count == 2 && progress.map { $0["done"] } == [.number(1), .number(2)] && progress.allSatisfy { $0["total"] == .number(2) })
        #expect(progress.allSatisfy { $0["task"] == .string("fit") && $0["seconds_left_at_most"] != nil })
        let fitted = all, events = all.fitted.filter { $0["event"] != .string("progress") }
        try #require(events.count == 3)
        let model = events[0]
        #expect(Set(model.keys) == ["event", "kept_epoch", "validation_ndcg_at_10", "test_users", "hr_at_10", "ndcg_at_10", "mrr_at_10",
                                    "coverage", "novelty", "seconds", "training_seconds", "collective_seconds", "windows_per_second",
                                    "processes", "out"])
        #expect(model["event"] == .string("fitted") && model["kept_epoch"] == .number(2) && model["test_users"] == .number(60)
                && model["out"] == .string(fitted.checkpoint))
        // One process: no time in collectives; the windows per second are the epochs' windows over the training seconds.
        #expect(model["processes"] == .number(1) && model["collective_seconds"] == .number(0))
        if case .number(let rate)? = model["windows_per_second"], case .number(let training)? = model["training_seconds"],
           case .number(let seconds)? = model["seconds"] {
            #expect(rate > 0 && training > 0 && training <= seconds, "\(rate) windows/s over \(training) s of \(seconds) s")
        } else {
            Issue.record("no windows_per_second or training_seconds in \(model)")
        }
        #expect(["validation_ndcg_at_10", "hr_at_10", "ndcg_at_10", "mrr_at_10", "coverage"].allSatisfy { Self.isShare(model[$0]) })
        if case .number(let novelty)? = model["novelty"], case .number(let seconds)? = model["seconds"] {
            #expect(novelty > 0 && seconds > 0)
        } else {
            Issue.record("novelty and seconds are not numbers: \(model)")
        }
        #expect(FileManager.default.fileExists(atPath: fitted.checkpoint))
        #expect(Array(events.dropFirst()) == [
            ["event": .string("registered"), "version": .string("v1"), "registry": .string(fitted.registry), "parent": .null],
            ["event": .string("promoted"), "version": .string("v1"), "gate": .null],
        ])
    }

    /// Each subcommand prints its change as an event, and list, show and lineage one object per
    /// version with its role in serving and its metrics as numbers.
    @Test func registryCommandsPrintTheirChangesAndVersions() throws {
        let registry = try Self.registryWithTheModel("json-registry"), checkpoint = try Self.fitted.get().checkpoint
        let at = ["--registry", registry]
        #expect(try Self.json(["registry", "register", "--checkpoint", checkpoint, "--scenario", "synthetic", "--parent", "v1"] + at)
                == [["event": .string("registered"), "version": .string("v2"), "registry": .string(registry), "parent": .string("v1")]])
        #expect(try Self.json(["registry", "promote", "v1"] + at) == [["event": .string("promoted"), "version": .string("v1"), "gate": .null]])
        #expect(try Self.json(["registry", "promote", "v2"] + at) == [["event": .string("promoted"), "version": .string("v2"), "gate": .null]])
        #expect(try Self.json(["registry", "rollback"] + at) == [["event": .string("rolled_back"), "version": .string("v1")]])
        #expect(try Self.json(["registry", "rollout", "v2", "--share", "0.25"] + at)
                == [["event": .string("rollout_started"), "version": .string("v2"), "share": .number(0.25), "gate": .null]])

        let versions = try Self.json(["registry", "list"] + at)
        #expect(versions.map { $0["version"] } == [.string("v1"), .string("v2")])
        #expect(versions.map { $0["role"] } == [.string("production"), .string("candidate")])
        #expect(versions.map { $0["share"] } == [.null, .number(0.25)])
        #expect(versions.map { $0["parent"] } == [.null, .string("v1")])
        #expect(versions.allSatisfy { $0["kind"] == .string("next-item") && $0["scenario"] == .string("synthetic") })
        for key in ["created_at", "data_hash", "configuration_hash", "checkpoint", "checkpoint_hash", "hyperparameters"] {
            #expect(versions.allSatisfy { if case .string? = $0[key] { true } else { false } }, "\(key)")
        }

        #expect(try Self.json(["registry", "stop-rollout", "--reason", "test"] + at)
                == [["event": .string("rollout_stopped"), "version": .string("v2"), "reason": .string("test")]])
        let shown = try Self.json(["registry", "show", "v2"] + at)
        #expect(shown.count == 1 && shown[0]["version"] == .string("v2") && shown[0]["role"] == nil)
        #expect(try Self.json(["registry", "lineage", "v2"] + at).map { $0["version"] } == [.string("v2"), .string("v1")])

        // The metrics fit registered, under the names fit prints them.
        let fitted = try Self.json(["registry", "list", "--registry", try Self.fitted.get().registry])
        try #require(fitted.count == 1)
        #expect(["hr_at_10", "ndcg_at_10", "mrr_at_10", "coverage"].allSatisfy { Self.isShare(fitted[0][$0]) } && fitted[0]["role"] == .string("production"))
    }

    @Test func updatePrintsBothModelsThenTheChild() throws {
        let registry = try Self.registryWithTheModel("json-update")
        let all = try Self.json(["update", "--registry", registry, "--from", "v1", "--feedback", try Self.fitted.get().log, "--epochs", "2", "--promote"])
        // A progress event per epoch first, as fit's.
        let progress = all.filter { $0["event"] == .string("progress") }
        #expect(progress.map { $0["done"] } == [.number(1), .number(2)] && progress.allSatisfy { $0["total"] == .number(2) && $0["task"] == .string("update") })
        #expect(all.prefix(2).allSatisfy { $0["event"] == .string("progress") })
        let lines = all.filter { $0["event"] != .string("progress") }
        try #require(lines.count == 3)
        #expect(Set(lines[0].keys) == ["event", "parent", "feedback_events", "skipped", "test_users", "parent_hr_at_10", "parent_ndcg_at_10",
                                       "parent_mrr_at_10", "parent_coverage", "hr_at_10", "ndcg_at_10", "mrr_at_10", "coverage",
                                       "frozen_parameters", "frozen_values", "seconds"])
        #expect(lines[0]["event"] == .string("updated") && lines[0]["parent"] == .string("v1") && lines[0]["feedback_events"] == .number(720)
                && lines[0]["skipped"] == .number(0) && lines[0]["test_users"] == .number(60))
        #expect(["parent_hr_at_10", "parent_ndcg_at_10", "hr_at_10", "ndcg_at_10", "coverage"].allSatisfy { Self.isShare(lines[0][$0]) })
        #expect(Array(lines.dropFirst()) == [
            ["event": .string("registered"), "version": .string("v2"), "registry": .string(registry), "parent": .string("v1")],
            ["event": .string("promoted"), "version": .string("v2"), "gate": .null],
        ])
    }

    /// evaluate --json: progress events over the ranker epochs it trains at most (the sequential
    /// ranker's and SQN's here), ending at the total, then the models' rows.
    @Test func evaluateReportsItsProgressOverTheEpochs() throws {
        let lines = try Self.json(["evaluate", "--data", try Self.fitted.get().log, "--epochs", "3", "--agents", "sqn", "--cutoffs", "10"])
        let progress = lines.filter { $0["event"] == .string("progress") }
        #expect(!progress.isEmpty && progress.allSatisfy { $0["task"] == .string("evaluating") && $0["unit"] == .string("epochs") && $0["total"] == .number(6) })
        #expect(progress.last?["done"] == .number(6) && progress.last?["seconds_left"] == .number(0))
        let rows = lines.filter { $0["event"] == nil && $0["model"] != nil }
        #expect(rows.count == 4, "popularity, ALS, the sequential ranker and SQN: \(rows)")
        // With --quiet, no progress at all on standard error.
        let quiet = try CommandLineTests.run(["evaluate", "--data", try Self.fitted.get().log, "--epochs", "3", "--agents", "sqn", "--cutoffs", "10", "--quiet"])
        #expect(quiet.status == 0 && quiet.error.isEmpty && quiet.output.contains("HR@10"), "\(quiet.error)")
    }

    @Test func compressPrintsEachModelThenTheChild() throws {
        let registry = try Self.registryWithTheModel("json-compress")
        let lines = try Self.json(["compress", "--registry", registry, "--version", "v1", "--method", "low-rank", "--rank", "4",
                                   "--fine-tune-epochs", "1", "--data", try Self.fitted.get().log, "--register"])
        try #require(lines.count == 4)
        let models = Array(lines.prefix(3))
        #expect(models.map { $0["model"] } == [.string("v1 (original)"), .string("low-rank r=4, before fine-tuning"), .string("low-rank r=4, fine-tuned")])
        for model in models {
            #expect(Set(model.keys) == ["event", "model", "method", "stored_numbers", "checkpoint_bytes", "p50_ms", "p99_ms", "test_users", "hr_at_10",
                                        "ndcg_at_10", "hr_at_10_diff", "hr_at_10_relative_change", "hr_at_10_diff_ci_low", "hr_at_10_diff_ci_high"])
            #expect(model["event"] == .string("measured") && model["method"] == .string("low-rank") && Self.isShare(model["hr_at_10"]))
        }
        #expect(models[0]["hr_at_10_diff"] == .null && models[2]["hr_at_10_diff"] != .null)
        if case .number(let original)? = models[0]["stored_numbers"], case .number(let compressed)? = models[2]["stored_numbers"] {
            #expect(compressed < original)
        } else {
            Issue.record("stored_numbers are not numbers: \(models)")
        }
        #expect(lines[3] == ["event": .string("registered"), "version": .string("v2"), "registry": .string(registry), "parent": .string("v1")])
    }

    /// `train --out` writes the checkpoint, and `--save`, its former name, the same one.
    @Test func trainWritesItsCheckpointToOutOrSave() throws {
        let directory = Fixtures.scratchDirectory("train-out")
        let arguments = ["train", "--env", "cartpole", "--steps", "200", "--evaluation-interval", "100", "--quiet"]
        for option in ["--out", "--save"] {
            let result = try CommandLineTests.run(arguments + [option, directory + "/\(option.dropFirst(2)).safetensors"])
            #expect(result.status == 0, "\(result.error)")
        }
        let out = FileManager.default.contents(atPath: directory + "/out.safetensors")
        #expect(out != nil && out == FileManager.default.contents(atPath: directory + "/save.safetensors"))
        #expect(try CommandLineTests.run(["train", "--help"]).output.contains("--out, --save <path>"))
    }

    /// `ope obd --out` keeps the learned policy, and so does `--save-policy`, its former name.
    @Test func opeTakesOutForTheLearnedPolicy() throws {
        for option in ["--out", "--save-policy"] {
            let result = try CommandLineTests.run(["ope", "obd", "--evaluation", "bts", option, "policy.safetensors"])
            #expect(result.status == 64 && result.error.contains("Error: --out saves the policy of --evaluation learned"), "\(result)")
        }
    }
}
