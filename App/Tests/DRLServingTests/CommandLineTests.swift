import DRLNN
import DRLTensor
import Foundation
import Testing

/// What the command-line tool says about itself, and what it writes.
@Suite struct CommandLineTests {
    /// What the `drlrec` built beside the tests does when run with `arguments`: its exit status and
    /// what it printed on standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try #require(FileManager.default.isExecutableFile(atPath: tool), "no drlrec executable at \(tool): build the package's products first")
        return try run(executable: tool, arguments)
    }

    /// The `drlrec` built beside the tests.
    static let tool = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("drlrec").path

    /// The same for any program, with `environment` added to this process's.
    static func run(executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, output: String, error: String) {
        let process = Process(), output = Pipe(), error = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Standard error is read on another thread, so that neither pipe fills while the other is read.
        nonisolated(unsafe) var errorBytes = Data()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) { errorBytes = error.fileHandleForReading.readDataToEndOfFile() }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reading.wait()
        process.waitUntilExit()
        return (process.terminationStatus, text, String(decoding: errorBytes, as: UTF8.self))
    }

    /// DRLREC_VECTOR_ISA runs DRLRec's vector kernels at a lower instruction set than the CPU's
    /// (to test a variant, or to run without FMA), `info` says so, and a name it does not know is
    /// reported and ignored.
    @Test func theVectorKernelsRunAtTheInstructionSetAskedFor() throws {
        let cpu = Engine.info.cpuISA
        let portable = try Self.run(executable: Self.tool, ["info"], environment: [Engine.vectorISAVariable: "portable"])
        #expect(portable.status == 0)
        #expect(portable.output.contains(cpu == .portable ? "vector kernels    portable\n"
                                         : "vector kernels    portable (set with DRLREC_VECTOR_ISA; the CPU runs \(cpu))\n"), "\(portable.output)")
        let unknown = try Self.run(executable: Self.tool, ["info"], environment: [Engine.vectorISAVariable: "avx9"])
        #expect(unknown.status == 0 && unknown.output.contains("vector kernels    \(cpu)\n"))
        #expect(unknown.error.contains("ignoring DRLREC_VECTOR_ISA=avx9: expected portable, avx2 or avx512"), "\(unknown.error)")
        // Never above the CPU's.
        let widest = try Self.run(executable: Self.tool, ["info"], environment: [Engine.vectorISAVariable: "avx512"])
        #expect(widest.output.contains("vector kernels    \(cpu)\n"))
    }

    @Test func versionIsPrinted() throws {
        #expect(try ServedPoliciesTests.drlrec(["--version"]) == DRLRecVersion.current + "\n")
    }

    /// Training reports its progress: off a terminal, a line at each tenth of the way on standard
    /// error with the rate and the time left; with --json, the same events as JSON lines beside the
    /// evaluations; with --quiet, nothing.
    @Test func trainingReportsItsProgress() throws {
        let arguments = ["train", "--env", "cartpole", "--steps", "3000", "--evaluation-interval", "1000"]
        let plain = try Self.run(arguments)
        let lines = plain.error.split(separator: "\n").filter { $0.hasPrefix("training: ") }
        #expect(lines.count == 10 && lines.last?.hasPrefix("training: 3,000/3,000 steps (100%), ") == true, "\(plain.error)")
        #expect(lines.dropLast().allSatisfy { $0.contains(" left") })

        let json = try Self.run(arguments + ["--json"])
        let events = json.output.split(separator: "\n").compactMap { line -> [String: JSONValue]? in
            guard case .object(let fields)? = try? JSONParser.parse(Array(line.utf8)) else { return nil }
            return fields
        }
        #expect(events.count == json.output.split(separator: "\n").count)  // every line is JSON
        let progress = events.filter { $0["event"] == .string("progress") }, evaluations = events.filter { $0["event"] == .string("evaluation") }
        #expect(Set(events.compactMap { if case .string(let event)? = $0["event"] { event } else { nil } }) == ["progress", "evaluation"])
        #expect(progress.count == 10 && evaluations.count == 3)
        #expect(progress.last?["done"] == .number(3_000) && progress.last?["total"] == .number(3_000) && evaluations.last?["step"] == .number(3_000))
        let dones = progress.compactMap { if case .number(let n)? = $0["done"] { n } else { nil } }
        #expect(dones == dones.sorted())

        let quiet = try Self.run(arguments + ["--quiet"])
        #expect(!quiet.error.contains("training: ") && quiet.output.hasPrefix("final evaluation return"))
    }

    /// An A/B test reports each arm's simulation user by user, under the line naming the arm.
    @Test func anABTestReportsEachArmsProgress() throws {
        let run = try Self.run(["abtest", "--env", "video", "--users", "40", "--treatment", "random", "--resamples", "100"])
        #expect(run.status == 0, "\(run.error)")
        let lines = run.error.split(separator: "\n").map(String.init)
        for arm in ["linucb", "random"] {
            let progress = lines.filter { $0.hasPrefix("simulating \(arm): ") }
            #expect(progress.count == 10 && progress.last?.hasPrefix("simulating \(arm): 40/40 users (100%)") == true, "\(run.error)")
        }
        let control = try #require(lines.firstIndex { $0.hasPrefix("simulating the control (linucb)") })
        #expect(lines[control + 1].hasPrefix("simulating linucb: 4/40 users (10%)"))
        // With --quiet, nothing on standard error; the same table.
        let quiet = try Self.run(["abtest", "--env", "video", "--users", "40", "--treatment", "random", "--resamples", "100", "--quiet"])
        #expect(quiet.status == 0 && quiet.error.isEmpty && quiet.output == run.output, "\(quiet.error)")
    }

    /// A checkpoint records the run that wrote it (the environment, agent, steps, seed, evaluation
    /// and DRLRec's version) and the agent's hyperparameters in full; --from-checkpoint-config
    /// runs it again to the same bytes, an option beside it changes that setting, and
    /// --print-config shows what would run. Hyperparameters from flags and files are checked,
    /// naming the key.
    @Test func aRecordedRunRunsAgainFromItsCheckpoint() throws {
        let directory = Fixtures.scratchDirectory("rerun")
        let first = directory + "/first.safetensors", again = directory + "/again.safetensors", other = directory + "/other.safetensors"
        let trained = try Self.run(["train", "--env", "cartpole", "--steps", "2000", "--seed", "5", "--evaluation-interval", "1000",
                                    "--hyperparameter", "hidden_sizes=32,32", "--hyperparameter", "learning_rate=1e-3", "--save", first, "--quiet"])
        #expect(trained.status == 0, "\(trained.error)")
        let metadata = try SafeTensors.describe(first).metadata
        #expect(metadata["drlrec.run"] == #"{"drlrec_version": "\#(DRLRecVersion.current)", "env": "cartpole", "agent": "dqn", "seed": "5", "steps": 2000, "evaluation_interval": 1000, "evaluation_episodes": 10, "state_encoder": null}"#)
        let hyperparameters = try #require(metadata["drlrec.hyperparameters"])
        #expect(hyperparameters.contains(#""hidden_sizes":[32,32]"#) && hyperparameters.contains(#""learning_rate":0.001"#)
                && hyperparameters.contains(#""gamma":0.98"#))

        #expect(try Self.run(["train", "--from-checkpoint-config", first, "--save", again, "--quiet"]).status == 0)
        #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: first))
        #expect(try Self.run(["train", "--from-checkpoint-config", first, "--seed", "6", "--save", other, "--quiet"]).status == 0)
        #expect(FileManager.default.contents(atPath: other) != FileManager.default.contents(atPath: first))
        #expect(try SafeTensors.describe(other).metadata["drlrec.run"]?.contains(#""seed": "6""#) == true)
        #expect(try SafeTensors.describe(other).metadata["drlrec.hyperparameters"] == hyperparameters)

        let printed = try Self.run(["train", "--from-checkpoint-config", first, "--hyperparameter", "batch_size=32", "--print-config"])
        guard case .object(let fields)? = try? JSONParser.parse(Array(printed.output.utf8)), case .object(let agent)? = fields["hyperparameters"],
              case .object(let run)? = fields["run"] else {
            Issue.record("--print-config printed \(printed.output)")
            return
        }
        #expect(agent["batch_size"] == .number(32) && agent["hidden_sizes"] == .array([.number(32), .number(32)]) && run["steps"] == .number(2000))

        let unknown = try Self.run(["train", "--hyperparameter", "learning_rat=1e-3", "--print-config"])
        #expect(unknown.status == 64 && unknown.error.contains("--hyperparameter learning_rat=1e-3: unknown key 'learning_rat'"), "\(unknown)")
        let file = directory + "/agent.json"
        try #"{"gamma": 0.9,}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let comma = try Self.run(["train", "--agent-config", file, "--print-config"])
        #expect(comma.status == 1 && comma.error.contains("\(file): not valid JSON"), "\(comma)")
        let recordless = try Self.run(["train", "--from-checkpoint-config", file, "--print-config"])
        #expect(recordless.status == 1 && recordless.error.contains("--from-checkpoint-config"), "\(recordless)")
    }
}

/// `drlrec train` writes the policy alone unless asked for the training state (in the serving
/// suite, which trains each checkpoint once).
extension ServedPoliciesTests {
    /// The default file holds what acting needs, a small part of the whole: the actor, with the
    /// same values as in the training-state file of the same run. Resuming takes the state and
    /// refuses the policy, saying why; a periodic checkpoint (written to resume from) asks for
    /// --save-state.
    @Test func trainWritesThePolicyAloneUnlessAskedForTheState() throws {
        let policy = try Self.trainedCheckpoint(["--env", "ecommerce", "--steps", "1100"])
        let state = try Self.trainedCheckpoint(["--env", "ecommerce", "--steps", "1100", "--save-state"])
        let sizes = try [policy, state].map { try #require(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
        #expect(sizes[0] < 300_000 && sizes[1] > 20 * sizes[0], "policy \(sizes[0]) bytes, state \(sizes[1])")
        let small = try SafeTensors.read(from: policy), whole = try SafeTensors.read(from: state)
        #expect(small.metadata["drlrec.checkpoint_contents"] == "policy" && whole.metadata["drlrec.checkpoint_contents"] == nil)
        #expect(small.metadata["drlrec.scenario"] == "ecommerce" && small.metadata["drlrec.environment_steps"] == "1100")
        #expect(Set(small.tensors.map(\.name)) == Set(whole.tensors.map(\.name).filter { $0.hasPrefix("actor.") && !$0.hasPrefix("actor.optimizer.") }))
        for (name, tensor) in small.tensors {
            #expect(whole.tensors.first { $0.name == name }?.tensor.scalars == tensor.scalars, "\(name) differs from the state's")
        }

        let directory = Fixtures.scratchDirectory("train-contents")
        let refused = try CommandLineTests.run(["train", "--env", "ecommerce", "--steps", "1200", "--seed", "3", "--load", policy,
                                                "--save", directory + "/resumed.safetensors", "--quiet"])
        #expect(refused.status == 1 && refused.error.contains("holds only the policy") && refused.error.contains("--save-state"), "\(refused)")
        let resumed = try CommandLineTests.run(["train", "--env", "ecommerce", "--steps", "1200", "--seed", "3", "--load", state, "--save-state",
                                                "--save", directory + "/resumed.safetensors", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let steps = try SafeTensors.describe(directory + "/resumed.safetensors").metadata["drlrec.environment_steps"]
        #expect(steps == "1200")
        let periodic = try CommandLineTests.run(["train", "--env", "cartpole", "--steps", "100", "--checkpoint-interval", "50",
                                                 "--save", directory + "/periodic.safetensors"])
        #expect(periodic.status == 64 && periodic.error.contains("--checkpoint-interval writes the run to resume from, which needs --save-state"),
                "\(periodic)")
    }
}
