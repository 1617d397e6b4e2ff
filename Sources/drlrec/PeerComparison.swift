import ArgumentParser
import Foundation

/// Runs the PyTorch peer script on the same workloads and prints DRLRec's speed-up over it.
struct PeerComparison {
    let script: String
    let threads: [Int]
    let samples: Int
    let json: Bool

    func run(against ours: [(threads: Int, result: BenchResult)]) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("peer script not found at \(script) (run from the repository root or pass --peer-script)")
        }
        let names = Set(ours.map(\.result.name)).sorted().joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--json", "--threads", threads.map(String.init).joined(separator: ","),
                             "--samples", String(samples), "--only", names]
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            printSkip("python3 could not be started (\(error)); install Python 3 with torch to compare")
            return
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var peers: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if object["skipped"] as? Bool == true {
                printSkip(object["reason"] as? String ?? "the peer skipped itself")
                return
            }
            if let name = object["name"] as? String, let t = object["threads"] as? Int, let ms = object["value"] as? Double {
                peers["\(name)@\(t)"] = ms
            }
        }
        guard process.terminationStatus == 0 else {
            printSkip("the peer script exited with status \(process.terminationStatus)")
            return
        }
        for (t, result) in ours {
            guard let peer = peers["\(result.name)@\(t)"] else { continue }
            let speedup = peer / result.value
            if json {
                print(JSONLine([
                    ("name", .string(result.name)), ("threads", .int(t)), ("value", .double((speedup * 1000).rounded() / 1000)),
                    ("unit", .string("speedup")), ("drlrec_ms", .double(result.value)), ("torch_ms", .double(peer)),
                ]).text)
            } else {
                print("\(result.name) threads \(t): DRLRec \(String(format: "%.2f", result.value)) ms, "
                      + "PyTorch \(String(format: "%.2f", peer)) ms, speed-up \(String(format: "%.2f", speedup))x")
            }
        }
    }

    private func printSkip(_ reason: String) {
        if json {
            print(JSONLine([("name", .string("peer")), ("skipped", .bool(true)), ("reason", .string(reason))]).text)
        } else {
            print("PyTorch comparison skipped: \(reason)")
        }
    }
}
