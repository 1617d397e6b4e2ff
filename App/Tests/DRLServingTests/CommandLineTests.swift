import DRLNN
import DRLTensor
import Foundation
import Testing

/// What the command-line tool says about itself, and what it writes.
@Suite struct CommandLineTests {
    /// What the `drlrec` built beside the tests does when run with `arguments`: its exit status and
    /// what it printed on standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let tool = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("drlrec").path
        try #require(FileManager.default.isExecutableFile(atPath: tool), "no drlrec executable at \(tool): build the package's products first")
        let process = Process(), output = Pipe(), error = Pipe()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
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

    @Test func versionIsPrinted() throws {
        #expect(try ServedPoliciesTests.drlrec(["--version"]) == DRLRecVersion.current + "\n")
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
        #expect(refused.status == 64 && refused.error.contains("holds only the policy") && refused.error.contains("--save-state"), "\(refused)")
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
