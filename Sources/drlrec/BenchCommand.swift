import ArgumentParser
import DRLTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (medians over repeated runs).",
        subcommands: [CoreBenchCommand.self, NNBenchCommand.self]
    )
}

struct CoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "GEMM (Tensor matmul against a direct cblas_sgemm call) and the softmax, GELU and LayerNorm kernels."
    )

    @Flag(help: "Print one JSON object per measurement, one per line.")
    var json = false

    @Option(help: "Comma-separated thread counts to measure.")
    var threads: String = "1,2"

    @Option(help: "Timed samples per measurement (the median is reported).")
    var samples: Int = 15

    @Option(help: "Target duration of one sample, in milliseconds.")
    var sampleMilliseconds: Double = 20

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
        guard sampleMilliseconds > 0 else { throw ValidationError("--sample-milliseconds must be positive") }
        guard parsedThreads != nil else {
            throw ValidationError("--threads must be positive integers separated by commas, got '\(threads)'")
        }
    }

    var parsedThreads: [Int]? { parseThreadCounts(threads) }

    func run() {
        let bench = CoreBenchmarks(sampler: Sampler(samples: samples, sampleSeconds: sampleMilliseconds / 1000))
        let info = Engine.info
        let peak = Engine.measurePeakGFLOPS()
        if !json {
            print("OpenBLAS kernel: \(info.kernelSelection); vector kernels: \(info.vectorISA)")
            print("medians of \(samples) samples\n")
        }
        if let peak {
            let result = BenchResult(name: "fma_peak", value: peak, unit: "GFLOP/s")
            print(json ? result.jsonLine(threads: 1) : result.tableLine(threads: 1))
        }
        for t in parsedThreads! {
            Engine.setThreadCount(t)
            for result in bench.runAll(peak: peak) {
                print(json ? result.jsonLine(threads: t) : result.tableLine(threads: t))
            }
        }
    }
}

struct NNBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Train-step workloads of the neural-network layer (the PyTorch peer's workloads).",
        discussion: """
        With --compare-peers, runs the same workloads in PyTorch (Benchmarks/peers/torch_workloads.py) \
        right after DRLRec's and prints the speed-up of DRLRec over PyTorch for each. Needs python3 with \
        torch; where it is missing the comparison is skipped with a message.
        """
    )

    @Flag(help: "Print one JSON object per measurement, one per line.")
    var json = false

    @Option(help: "Comma-separated thread counts to measure.")
    var threads: String = "1,2"

    @Option(help: "Timed samples per measurement (the median is reported).")
    var samples: Int = 15

    @Option(help: "Target duration of one sample, in milliseconds.")
    var sampleMilliseconds: Double = 200

    @Flag(help: "Also run the PyTorch peer and print speed-ups.")
    var comparePeers = false

    @Option(help: "The PyTorch peer script.")
    var peerScript: String = "Benchmarks/peers/torch_workloads.py"

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
        guard sampleMilliseconds > 0 else { throw ValidationError("--sample-milliseconds must be positive") }
        guard threadCounts != nil else {
            throw ValidationError("--threads must be positive integers separated by commas, got '\(threads)'")
        }
    }

    var threadCounts: [Int]? { parseThreadCounts(threads) }

    func run() throws {
        let bench = NNBenchmarks(sampler: Sampler(samples: samples, sampleSeconds: sampleMilliseconds / 1000))
        if !json {
            print("OpenBLAS kernel: \(Engine.info.kernelSelection); medians of \(samples) samples\n")
        }
        var ours: [(threads: Int, result: BenchResult)] = []
        for t in threadCounts! {
            Engine.setThreadCount(t)
            for result in bench.runAll() {
                ours.append((t, result))
                print(json ? result.jsonLine(threads: t) : result.tableLine(threads: t))
            }
        }
        if comparePeers {
            try PeerComparison(script: peerScript, threads: threadCounts!, samples: samples, json: json).run(against: ours)
        }
    }
}

func parseThreadCounts(_ text: String) -> [Int]? {
    let parts = text.split(separator: ",").map { Int($0) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
    return parts.map { $0! }
}
