import FuzzTargets
import Foundation

/// `drlrec-fuzz TARGET [libFuzzer arguments]`: fuzzes the target (a build with -sanitize=fuzzer and
/// -D DRLREC_LIBFUZZER; see docs/FUZZING.md). In any build, `drlrec-fuzz replay TARGET FILE|DIR...`
/// runs each file (each file of each folder) through the target and stops at the first failure,
/// and `drlrec-fuzz seed DIR` writes every target's seed inputs into DIR/TARGET/.
@main
struct DRLRecFuzz {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let targets = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        let usage = "usage: drlrec-fuzz TARGET [libFuzzer arguments] | replay TARGET FILE|DIR... | seed DIR (targets: \(targets))"
        switch arguments.first {
        case "seed" where arguments.count == 2: try seed(into: arguments[1])
        case "replay" where arguments.count >= 3:
            guard let target = FuzzTarget(rawValue: arguments[1]) else { fail(usage) }
            try replay(target, Array(arguments.dropFirst(2)))
        case let name? where FuzzTarget(rawValue: name) != nil: fuzz(FuzzTarget(rawValue: name)!, Array(arguments.dropFirst()))
        default:
            // libFuzzer's merge and fork modes run this program again with its own arguments only;
            // the target then comes from the environment the first run set.
            guard let name = ProcessInfo.processInfo.environment[targetVariable], let target = FuzzTarget(rawValue: name) else { fail(usage) }
            fuzz(target, arguments)
        }
    }

    static func seed(into directory: String) throws {
        for target in FuzzTarget.allCases {
            let folder = directory + "/" + target.rawValue
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (k, seed) in target.seeds.enumerated() {
                _ = FileManager.default.createFile(atPath: "\(folder)/seed-\(k)", contents: Data(seed))
            }
        }
    }

    static func replay(_ target: FuzzTarget, _ paths: [String]) throws {
        var (count, accepted) = (0, 0)
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("'\(path)' does not exist") }
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read '\(file)'") }
                do { accepted += try target.run([UInt8](data)) ? 1 : 0 } catch { fail("\(file): \(error)") }
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs (\(accepted) accepted all the way), no failure")
    }

    static let targetVariable = "DRLREC_FUZZ_TARGET"

    /// Runs libFuzzer's driver on `target` with `fuzzerArguments`.
    static func fuzz(_ target: FuzzTarget, _ fuzzerArguments: [String]) -> Never {
        #if DRLREC_LIBFUZZER
        fuzzedTarget = target
        setenv(targetVariable, target.rawValue, 1)
        // The copies live until exit: libFuzzer keeps pointers into argv.
        let arguments = [CommandLine.arguments[0]] + fuzzerArguments
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var count = CInt(arguments.count)
        let status = pointers.withUnsafeMutableBufferPointer { buffer in
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
            return runFuzzerDriver(&count, &argv, testOneInput)
        }
        exit(status)
        #else
        fail("this drlrec-fuzz was built without libFuzzer: build it with `make fuzz-build` (docs/FUZZING.md), or replay files with `drlrec-fuzz replay`")
        #endif
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(1)
    }
}

#if DRLREC_LIBFUZZER
nonisolated(unsafe) private var fuzzedTarget = FuzzTarget.requests

/// libFuzzer's driver (compiler-rt), which owns the loop, the corpus and the crash reports.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                             _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

private func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    do { try fuzzedTarget.run(input) } catch { fatalError("\(fuzzedTarget.rawValue): \(error)") }
    return 0
}
#endif
