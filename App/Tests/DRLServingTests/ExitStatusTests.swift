import Foundation
import Testing

/// How `drlrec` fails: a command line that is wrong in itself exits 64 with the usage; a failure
/// while running (a file that is missing or malformed, a write that fails) exits 1 with its error
/// alone. A negative number is read as an option's value, and refused or accepted by its range.
@Suite struct ExitStatusTests {
    /// A scratch folder with the files the failures read, written once: an agent configuration
    /// that is not valid JSON, a file that is not a checkpoint, a log with a malformed row, and a
    /// MovieLens cache of three ratings (at times 10, 20 and 30).
    static let directory: String = {
        let directory = Fixtures.scratchDirectory("exit-status")
        let files = [
            "agent.json": #"{"gamma": 0.9,}"#,
            "text.safetensors": "not a checkpoint\n",
            "bad-row.csv": "user,item,timestamp,event\nu0,i1,yesterday,click\n",
            "cache/movielens/ml-100k.user": "user_id:token\tage:float\tgender:token\nu1\t30\tF\n",
            "cache/movielens/ml-100k.item": "item_id:token\tclass:token_seq\nm1\tDrama\nm2\tComedy\n",
            "cache/movielens/ml-100k.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu1\tm1\t4\t10\nu1\tm2\t3\t20\nu1\tm1\t5\t30\n",
        ]
        for (name, text) in files {
            let path = directory + "/" + name
            try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try! text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return directory
    }()
    /// A path under a folder that does not exist.
    static let missing = directory + "/missing"

    /// Each with a part of its message.
    @Test(arguments: [
        (["train", "--bogus"], "Unknown option '--bogus'"),
        (["train", "--steps", "-5"], "--steps must be positive, got -5"),
        (["train", "--env", "cartpole", "--agent", "sac"], "--agent sac does not run on --env cartpole"),
        (["train", "--seed", "-1"], "The value '-1' is invalid for '--seed <seed>'"),
        (["train", "--hyperparameter", "learning_rat=1e-3", "--print-config"], "--hyperparameter learning_rat=1e-3: unknown key 'learning_rat'"),
        (["abtest", "--users", "0"], "--users must be at least 2, got 0"),
        (["evaluate", "--cutoffs", "-5"], "--cutoffs '-5' must be positive integers"),
        (["serve", "--port", "-1"], "--port -1 is not a port number"),
        (["registry", "rollout", "v1", "--share", "-0.5", "--registry", missing], "--share must be in (0, 1), got -0.5"),
    ])
    func aUsageErrorExits64WithTheUsage(arguments: [String], message: String) throws {
        let result = try CommandLineTests.run(arguments)
        #expect(result.status == 64 && result.error.contains("Error: \(message)") && result.error.contains("Usage:"), "\(result)")
    }

    @Test(arguments: [
        (["train", "--load", missing + "/run.safetensors"], "\(missing)/run.safetensors"),
        (["train", "--agent-config", directory + "/agent.json", "--print-config"], "\(directory)/agent.json: not valid JSON"),
        (["train", "--from-checkpoint-config", directory + "/agent.json", "--print-config"], "--from-checkpoint-config"),
        (["train", "--steps", "10", "--metrics", missing + "/metrics.csv"], "the directory '\(missing)' does not exist or is not writable"),
        (["abtest", "--config", missing + "/settings.json"], "--config \(missing)/settings.json: there is no such file"),
        (["abtest", "--env", "video", "--treatment", missing + "/ranker.safetensors"], "is neither a policy nor a checkpoint file"),
        (["evaluate", "--data", missing + "/log.csv"], "\(missing)/log.csv"),
        (["evaluate", "--data", directory + "/bad-row.csv"], "bad-row.csv:2"),
        (["registry", "register", "--checkpoint", directory + "/text.safetensors", "--scenario", "ecommerce", "--registry", directory + "/registry"],
         "safetensors checkpoint '\(directory)/text.safetensors'"),
        (["loop", "--production", missing + "/production.safetensors"], "no checkpoint at '\(missing)/production.safetensors'"),
        (["ope", "obd", "--evaluation", missing + "/table.csv"], "no such file: \(missing)/table.csv"),
        (["ope", "served", "--impressions", missing + "/impressions.csv", "--feedback", missing + "/feedback.csv", "--evaluation", missing + "/model.safetensors"],
         "\(missing)/impressions.csv"),
        (["data", "synthesize", "--users", "2", "--items", "4", "--events", "2", "--out", missing + "/log.csv"], "--out \(missing)/log.csv: cannot write it"),
        (["data", "convert", "movielens", "--out", directory + "/movielens.csv", "--cache", missing], "run `drlrec data fetch movielens` first"),
        (["serve", "--api-keys", missing + "/keys", "--registry", missing], "--api-keys"),
    ])
    func aFailureWhileRunningExits1WithoutTheUsage(arguments: [String], message: String) throws {
        let result = try CommandLineTests.run(arguments)
        #expect(result.status == 1 && result.error.contains("Error: ") && result.error.contains(message) && !result.error.contains("Usage:"), "\(result)")
    }

    /// Times before --since are left out, and a time before 1970 is one.
    @Test func aNegativeTimeIsAccepted() throws {
        let out = Self.directory + "/since.csv"
        let result = try CommandLineTests.run(["data", "convert", "movielens", "--out", out, "--cache", Self.directory + "/cache", "--since", "-5", "--until", "25"])
        #expect(result.status == 0 && result.output.contains("movielens: 2 interactions"), "\(result)")
    }
}
