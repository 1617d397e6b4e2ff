import ArgumentParser
import DRLServing
import DRLTensor
import DRLWorkloads

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (medians over repeated runs).",
        subcommands: [CoreBenchCommand.self, NNBenchCommand.self, AgentBenchCommand.self, ServeBenchCommand.self]
    )
}

/// Options shared by the bench subcommands.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON object per measurement, one per line.")
    var json = false

    @Option(parsing: .unconditional, help: "Comma-separated thread counts to measure.")
    var threads: String = "1,2"

    @Option(parsing: .unconditional, help: "Timed samples per measurement (the median is reported).")
    var samples: Int = 15

    @Option(parsing: .unconditional, help: "Target duration of one sample, in milliseconds (default: 20 for core, 200 for nn).")
    var sampleMilliseconds: Double?

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
        guard (sampleMilliseconds ?? 1) > 0 else { throw ValidationError("--sample-milliseconds must be positive") }
        guard threadCounts != nil else {
            throw ValidationError("--threads must be positive integers separated by commas, got '\(threads)'")
        }
    }

    var threadCounts: [Int]? { parseThreadCounts(threads) }

    func sampler(defaultMilliseconds: Double) -> Sampler {
        Sampler(samples: samples, sampleSeconds: (sampleMilliseconds ?? defaultMilliseconds) / 1000)
    }

    func emit(_ result: BenchResult, threads: Int) {
        print(json ? result.jsonLine(threads: threads) : result.tableLine(threads: threads))
    }
}

struct CoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "GEMM (Tensor matmul against a direct cblas_sgemm call) and the softmax, GELU and LayerNorm kernels."
    )

    @OptionGroup var options: BenchOptions

    func run() {
        let bench = CoreBenchmarks(sampler: options.sampler(defaultMilliseconds: 20))
        let info = Engine.info
        let peak = Engine.measurePeakGFLOPS()
        if !options.json {
            print("OpenBLAS kernel: \(info.kernelSelection); vector kernels: \(info.vectorISA)")
            print("medians of \(options.samples) samples\n")
        }
        if let peak { options.emit(BenchResult(name: "fma_peak", value: peak, unit: "GFLOP/s"), threads: 1) }
        for t in options.threadCounts! {
            Engine.setThreadCount(t)
            for result in bench.runAll(peak: peak) { options.emit(result, threads: t) }
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

    @OptionGroup var options: BenchOptions

    @Flag(help: "Also run the PyTorch peer and print speed-ups.")
    var comparePeers = false

    @Option(help: "The PyTorch peer script.")
    var peerScript: String = "Benchmarks/peers/torch_workloads.py"

    @Option(help: ArgumentHelp("Comma-separated workloads to run (default: all).",
                               discussion: NNBenchmarks.names.joined(separator: ", ")))
    var only: String?

    @Option(parsing: .unconditional, help: """
        With --compare-peers: rounds of DRLRec's workloads then the peer's. With more than one, \
        the speed-up reported at the end is the median over the rounds, which compares both sides \
        under the same load when the machine's speed drifts from second to second.
        """)
    var rounds: Int = 1

    var workloads: [String] {
        guard let only else { return NNBenchmarks.names }
        return only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func validate() throws {
        let unknown = workloads.filter { !NNBenchmarks.names.contains($0) }
        guard unknown.isEmpty, !workloads.isEmpty else {
            throw ValidationError("--only: unknown workload '\(unknown.first ?? "")'; known: \(NNBenchmarks.names.joined(separator: ", "))")
        }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
        guard rounds == 1 || comparePeers else { throw ValidationError("--rounds needs --compare-peers") }
    }

    func run() throws {
        let bench = NNBenchmarks(sampler: options.sampler(defaultMilliseconds: 200))
        let threadCounts = options.threadCounts!
        if !options.json {
            print("OpenBLAS kernel: \(Engine.info.kernelSelection); medians of \(options.samples) samples\n")
        }
        let peer = PeerComparison(script: peerScript,
                                  arguments: ["--threads", threadCounts.map(String.init).joined(separator: ","),
                                              "--samples", String(options.samples), "--only", workloads.joined(separator: ",")],
                                  json: options.json)
        var speedups: [String: [Double]] = [:]
        for round in 1...rounds {
            if rounds > 1 && !options.json { print("Round \(round) of \(rounds)") }
            var ours: [(threads: Int, result: BenchResult)] = []
            for t in threadCounts {
                Engine.setThreadCount(t)
                for result in bench.run(workloads.map { NNWorkload.Kind(rawValue: $0)! }) {  // validated
                    ours.append((t, result))
                    options.emit(result, threads: t)
                }
            }
            guard comparePeers else { return }
            guard let peers = try peer.measurePeer() else { return }
            for (key, speedup) in peer.report(ours, peers: peers) { speedups[key, default: []].append(speedup) }
        }
        if rounds > 1 { printMedians(speedups, threadCounts: threadCounts) }
    }

    /// The median speed-up over the rounds, and its range, per workload and thread count.
    private func printMedians(_ speedups: [String: [Double]], threadCounts: [Int]) {
        if !options.json { print("\nMedian speed-up over \(rounds) rounds (range):") }
        for t in threadCounts {
            for name in workloads {
                guard let values = speedups[PeerComparison.key(name, threads: t)] else { continue }
                let median = Sampler.median(values), low = values.min()!, high = values.max()!
                if options.json {
                    print(JSONLine([
                        ("name", .string(name)), ("threads", .int(t)), ("value", .double((median * 1000).rounded() / 1000)),
                        ("unit", .string("median_speedup")), ("rounds", .int(values.count)),
                        ("min", .double((low * 1000).rounded() / 1000)), ("max", .double((high * 1000).rounded() / 1000)),
                    ]).text)
                } else {
                    print("\(name) threads \(t): \(String(format: "%.2f", median))x (\(String(format: "%.2f", low))-\(String(format: "%.2f", high)))")
                }
            }
        }
    }
}

struct AgentBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Agent throughput, learning included: DQN and A2C on CartPole (environment steps/s), SAC on Pendulum (updates/s), A2C's off-policy V-trace (updates/s).",
        discussion: """
        With --compare-peers, runs the same configuration in Stable-Baselines3 \
        (Benchmarks/peers/sb3_agents.py) and prints DRLRec's speed-up. Needs python3 with \
        stable-baselines3; where it is missing the comparison is skipped with a message.
        """
    )

    @Flag(help: "Print one JSON object per measurement, one per line.")
    var json = false

    @Option(parsing: .unconditional, help: "Comma-separated thread counts to measure.")
    var threads: String = "1"

    @Option(parsing: .unconditional, help: "Timed DQN environment steps (after a warm-up that fills the replay buffer).")
    var steps: Int = 20_000

    @Option(parsing: .unconditional, help: "Timed SAC environment steps, one update each.")
    var sacSteps: Int = 5_000

    @Option(parsing: .unconditional, help: "Timed A2C environment steps (over 8 copies, one update per 40 steps).")
    var a2cSteps: Int = 100_000

    @Option(name: .customLong("vtrace-steps"), parsing: .unconditional, help: "Timed gradient steps of A2C's off-policy V-trace training on 20,000 logged steps (no peer).")
    var vTraceSteps: Int = 2_000

    @Flag(help: "Also run the Stable-Baselines3 peer and print speed-ups.")
    var comparePeers = false

    @Option(help: "The Stable-Baselines3 peer script.")
    var peerScript: String = "Benchmarks/peers/sb3_agents.py"

    func validate() throws {
        guard steps > 0, sacSteps > 0, a2cSteps > 0, vTraceSteps > 0 else {
            throw ValidationError("--steps, --sac-steps, --a2c-steps and --vtrace-steps must be positive")
        }
        guard parseThreadCounts(threads) != nil else {
            throw ValidationError("--threads must be positive integers separated by commas, got '\(threads)'")
        }
    }

    func run() throws {
        let counts = parseThreadCounts(threads)!
        var ours: [(threads: Int, result: BenchResult)] = []
        for t in counts {
            Engine.setThreadCount(t)
            // Each agent is built and warmed up just before its own timed run.
            for result in [try AgentBenchmarks.measure(.dqnCartPole(steps: steps)),
                           try AgentBenchmarks.measure(.sacPendulum(steps: sacSteps)),
                           try AgentBenchmarks.measure(.a2cCartPole(steps: a2cSteps)),
                           try AgentBenchmarks.measure(.vTraceOffPolicy(steps: vTraceSteps))] {
                ours.append((t, result))
                print(json ? result.jsonLine(threads: t) : result.tableLine(threads: t))
            }
        }
        if comparePeers {
            try PeerComparison(script: peerScript,
                               arguments: ["--threads", threads, "--steps", String(steps), "--sac-steps", String(sacSteps),
                                           "--a2c-steps", String(a2cSteps)],
                               json: json, higherIsBetter: true).run(against: ours)
        }
    }
}

struct ServeBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Where a served request's time goes, without the network: the model's scores, the list, the exploration, and whole requests.",
        discussion: """
        Serves the checkpoint from a temporary registry in process, with the exploration given and \
        every list logged to an impression log, as `drlrec serve` does. After a warm-up that gives \
        every user a history of served lists, it times each stage of a request on its own (median \
        milliseconds per call and heap allocations per call), then whole requests at --concurrency \
        in flight (requests per second).
        """
    )

    @Option(help: "A checkpoint `drlrec train` or `drlrec fit` writes.")
    var checkpoint: String

    @OptionGroup var exploration: ExplorationOptions

    @Option(parsing: .unconditional, help: "Distinct users.")
    var users = 2_000

    @Option(parsing: .unconditional, help: "Lists served to every user before the timing.")
    var warmUpLists = 10

    @Option(parsing: .unconditional, help: "Requests in flight during the timing of whole requests (each with its own replica of the model).")
    var concurrency = 32

    @Option(parsing: .unconditional, help: "Whole requests timed.")
    var requests = 20_000

    @Option(parsing: .unconditional, help: "Items per list.")
    var k = 10

    @Option(parsing: .unconditional, help: "Timed samples per stage (the median is reported).")
    var samples = 15

    @Flag(help: "Print one JSON object per measurement, one per line.")
    var json = false

    func validate() throws {
        guard users > 0, warmUpLists >= 0, concurrency > 0, requests > 0, k > 0, samples > 0 else {
            throw ValidationError("--users, --concurrency, --requests, --k and --samples must be positive, --warm-up-lists not negative")
        }
    }

    func run() async throws {
        let bench = ServingBenchmarks(checkpoint: checkpoint, exploration: exploration.exploration, users: users, warmUpLists: warmUpLists,
                                      concurrency: concurrency, requests: requests, k: k, sampler: Sampler(samples: samples, sampleSeconds: 0.05))
        do {
            for result in try await bench.run() { print(json ? result.jsonLine(threads: 1) : result.tableLine(threads: 1)) }
        } catch let error as ServingBenchmarks.Failure {
            throw CommandFailure(error.description)
        }
    }
}

func parseThreadCounts(_ text: String) -> [Int]? {
    let parts = text.split(separator: ",").map { Int($0) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
    return parts.map { $0! }
}
