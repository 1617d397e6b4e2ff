import DRLNN
import Foundation
import ScratchFiles
import Testing

/// Open MPI's launcher on the PATH.
private let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    .map { $0 + "/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

/// `mpirun -np 2 drlrec fit` over loopback with Open MPI: two processes train one model.
@Suite(.enabled(if: mpirun != nil, "mpirun (Open MPI) is not installed: `apt-get install openmpi-bin` runs these tests"))
struct DataParallelFitTests {
    /// `drlrec arguments…` started by `mpirun -np 2`, one thread per rank (as root too, which
    /// Open MPI refuses unless told).
    static func runOnTwoRanks(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try CommandLineTests.run(executable: try #require(mpirun),
                                 ["-np", "2", "--oversubscribe", "-x", "DRLREC_NUM_THREADS=1", CommandLineTests.tool] + arguments,
                                 environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_btl": "self,vader,tcp"])
    }

    static func fields(_ line: Substring) throws -> [String: JSONValue] {
        guard case .object(let fields) = try JSONParser.parse(Array(line.utf8)) else { throw CommandFailure("not a JSON object: \(line)") }
        return fields
    }

    struct CommandFailure: Error { let description: String; init(_ description: String) { self.description = description } }

    /// Two ranks fit what one process fits, at the same quality (the ranks' parameters were equal
    /// after every epoch, or the run would have stopped); rank 0 alone prints and writes.
    @Test func twoRanksFitTheModelOneProcessFits() throws {
        let directory = Scratch.directory("data-parallel-fit")
        let log = directory + "/log.csv"
        let synthesized = try CommandLineTests.run(["data", "synthesize", "--users", "300", "--items", "80", "--events", "16", "--seed", "3", "--out", log])
        try #require(synthesized.status == 0, "\(synthesized.error)")
        let options = ["fit", "--data", log, "--epochs", "4", "--history", "8", "--json", "--quiet"]
        let alone = try CommandLineTests.run(options + ["--out", directory + "/alone.safetensors"])
        try #require(alone.status == 0, "\(alone.error)")
        let shared = try Self.runOnTwoRanks(options + ["--out", directory + "/shared.safetensors"])
        try #require(shared.status == 0, "\(shared.error)")

        let lines = shared.output.split(separator: "\n")
        #expect(lines.count == 1, "rank 0 alone prints: \(shared.output)")
        let two = try Self.fields(try #require(lines.first)), one = try Self.fields(try #require(alone.output.split(separator: "\n").first))
        #expect(two["processes"] == .number(2) && one["processes"] == .number(1))
        for metric in ["hr_at_10", "ndcg_at_10"] {
            guard case .number(let a)? = one[metric], case .number(let b)? = two[metric] else { Issue.record("no \(metric)"); continue }
            #expect(abs(a - b) <= 0.02, "\(metric): \(a) in one process, \(b) over two")
        }
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".safetensors") }.sorted()
        #expect(checkpoints == ["alone.safetensors", "shared.safetensors"])
        let a = try SafeTensors.read(from: directory + "/alone.safetensors").tensors
        let b = Dictionary(uniqueKeysWithValues: try SafeTensors.read(from: directory + "/shared.safetensors").tensors.map { ($0.name, $0.tensor) })
        #expect(a.map(\.name).sorted() == b.keys.sorted())
        for (name, tensor) in a {
            let other = try #require(b[name])
            let scale = tensor.scalars.map(abs).max() ?? 0
            let difference = zip(tensor.scalars, other.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= 0.01 * max(scale, 1e-6), "\(name): parameters differ by \(difference) (largest \(scale))")
        }
    }

    /// A rank that fails stops the whole run with a non-zero status, saying which rank and why,
    /// instead of leaving the other waiting for it.
    @Test func aFailingRankStopsTheRun() throws {
        let run = try Self.runOnTwoRanks(["fit", "--data", "/nonexistent/log.csv", "--epochs", "1"])
        #expect(run.status != 0)
        #expect(run.error.contains("Error (rank ") && run.error.contains("of 2)") && run.error.contains("/nonexistent/log.csv"), "\(run.error)")
    }
}
