import Foundation

/// Runs a peer script (PyTorch or Stable-Baselines3) that prints the same JSON lines for the same
/// workloads, and prints DRLRec's speed-up over it.
struct PeerComparison {
    let script: String
    /// Arguments after the script; `--json` is added.
    let arguments: [String]
    let json: Bool
    /// True when the measurement is a rate (steps/s): speed-up = ours / peer. Otherwise a time.
    var higherIsBetter = false

    /// Runs the peer once and prints DRLRec's speed-up over it for each of `ours`.
    func run(against ours: [(threads: Int, result: BenchResult)]) throws {
        guard let peers = try measurePeer() else { return }
        _ = report(ours, peers: peers)
    }

    /// Runs the peer script: its figure per "name@threads", or nil (after printing why) when the
    /// comparison has to be skipped.
    func measurePeer() throws -> [String: Double]? {
        guard FileManager.default.fileExists(atPath: script) else {
            throw CommandFailure("peer script not found at \(script) (run from the repository root or pass --peer-script)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--json"] + arguments
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            printSkip("python3 could not be started (\(error)); install Python 3 with torch to compare")
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var peers: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if object["skipped"] as? Bool == true {
                printSkip(object["reason"] as? String ?? "the peer skipped itself")
                return nil
            }
            if let name = object["name"] as? String, let t = object["threads"] as? Int, let ms = object["value"] as? Double {
                peers[Self.key(name, threads: t)] = ms
            }
        }
        guard process.terminationStatus == 0 else {
            printSkip("the peer script exited with status \(process.terminationStatus)")
            return nil
        }
        return peers
    }

    /// Prints DRLRec's speed-up over the peer for each of `ours` the peer measured too, and returns
    /// the speed-ups by "name@threads".
    func report(_ ours: [(threads: Int, result: BenchResult)], peers: [String: Double]) -> [String: Double] {
        var speedups: [String: Double] = [:]
        for (t, result) in ours {
            guard let peer = peers[Self.key(result.name, threads: t)] else { continue }
            let speedup = higherIsBetter ? result.value / peer : peer / result.value
            speedups[Self.key(result.name, threads: t)] = speedup
            if json {
                print(JSONLine([
                    ("name", .string(result.name)), ("threads", .int(t)), ("value", .double((speedup * 1000).rounded() / 1000)),
                    ("unit", .string("speedup")), ("drlrec", .double((result.value * 1000).rounded() / 1000)), ("peer", .double(peer)),
                    ("measure_unit", .string(result.unit)),
                ]).text)
            } else {
                print("\(result.name) threads \(t): DRLRec \(String(format: "%.2f", result.value)) \(result.unit), "
                      + "peer \(String(format: "%.2f", peer)) \(result.unit), speed-up \(String(format: "%.2f", speedup))x")
            }
        }
        return speedups
    }

    static func key(_ name: String, threads: Int) -> String { "\(name)@\(threads)" }

    private func printSkip(_ reason: String) {
        if json {
            print(JSONLine([("name", .string("peer")), ("skipped", .bool(true)), ("reason", .string(reason))]).text)
        } else {
            print("PyTorch comparison skipped: \(reason)")
        }
    }
}
