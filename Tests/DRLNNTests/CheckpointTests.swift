@testable import DRLNN
import DRLTensor
import Foundation
import ScratchFiles
import Testing

// MARK: - Helpers

/// Runs `body` with a fresh scratch directory.
private func withTemporaryDirectory(_ body: (String) throws -> Void) throws { try body(Scratch.directory("checkpoint")) }

private func bytes(of path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

private func store(_ bytes: [UInt8], at path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

private func bitPatterns(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

private func floats(_ patterns: [UInt32]) -> [Float] { patterns.map(Float.init(bitPattern:)) }

private func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// A safetensors file assembled by hand: length prefix, header text as given (no padding), data.
private func handMadeFile(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    var file: [UInt8] = []
    withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { file.append(contentsOf: $0) }
    return file + json + data
}

/// Files in `directory` other than `keep`: temporary files a write should have removed.
private func leftovers(in directory: String, keeping keep: Set<String>) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { !keep.contains($0) }
}

/// The tensors of Tests/DRLNNTests/Fixtures/interop.safetensors, which Python's safetensors wrote.
/// Keep in sync with `fixture_tensors` in scripts/safetensors_interop.py (listed in its name order).
private let interopTensors: [(name: String, tensor: Tensor)] = [
    ("a.b.c", Tensor(shape: Shape(2, 1, 3), scalars: [-1, -0.5, 0, 0.5, 1, 1.5])),
    ("embedding.weight", Tensor(shape: Shape(3, 4), scalars: floats([
        0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000,
        0x0000_0001, 0x807F_FFFF, 0x7F7F_FFFF, 0x0080_0000,
        0x7FC0_0000, 0x7FC0_0001, 0xFFC1_2345, 0x3F80_0000,
    ]))),
    ("empty", Tensor(zeros: Shape(0))),
    ("scalar", Tensor(scalar: 3.25)),
    ("層.偏り", Tensor(shape: Shape(2), scalars: [1e-3, -7.5e8])),
]
private let interopMetadata = ["step": "1200"]

private func expectSameTensors(_ got: [(name: String, tensor: Tensor)], _ want: [(name: String, tensor: Tensor)],
                               sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.map(\.name) == want.map(\.name), sourceLocation: sourceLocation)
    for (g, w) in zip(got, want) {
        #expect(g.tensor.shape == w.tensor.shape, "shape of '\(w.name)'", sourceLocation: sourceLocation)
        #expect(bitPatterns(g.tensor) == bitPatterns(w.tensor), "bits of '\(w.name)'", sourceLocation: sourceLocation)
    }
}

// MARK: - Round trip and format

@Suite struct CheckpointFormatTests {
    @Test func roundTripIsBitExact() throws {
        var rng = RandomGenerator(seed: 7)
        let special = floats([
            0x8000_0000, 0x7F80_0000, 0xFF80_0000,   // -0, inf, -inf
            0x0000_0001, 0x0000_0400, 0x807F_FFFF,   // denormals
            0x7FC0_0000, 0x7FC0_0001, 0xFFC1_2345,   // quiet NaNs with payloads
            0x7F80_0001, 0x7FA0_0000,                // signalling NaNs
            0x7F7F_FFFF, 0xFF7F_FFFF, 0x0080_0000,   // ±max, min normal
        ])
        let tensors: [(name: String, tensor: Tensor)] = [
            ("encoder.layers.0.weight", Tensor.normal(Shape(33, 17), using: &rng)),
            ("special", Tensor(shape: Shape(2, 7), scalars: special)),
            ("rank0", Tensor(scalar: -0.0)),
            ("empty", Tensor(zeros: Shape(0))),
            ("empty.matrix", Tensor(zeros: Shape(3, 0, 2))),
            ("ユーザー.埋め込み.émoji🎯", Tensor.uniform(Shape(2, 3, 4), -5, 5, using: &rng)),
            ("quote\"back\\slash\ttab\u{1}ctl", Tensor(shape: Shape(1), scalars: [42])),
            ("rank6", Tensor.normal(Shape(1, 2, 1, 3, 1, 2), using: &rng)),
        ]
        let metadata = ["format": "drlrec", "step": "12000", "note": "line1\nline2 \"quoted\" ünïcødé", "": "empty key"]
        try withTemporaryDirectory { dir in
            let path = dir + "/model.safetensors"
            try SafeTensors.write(tensors, metadata: metadata, to: path)
            let (read, readMetadata) = try SafeTensors.read(from: path)
            expectSameTensors(read, tensors)
            #expect(readMetadata == metadata)
            #expect(try leftovers(in: dir, keeping: ["model.safetensors"]).isEmpty)
        }
    }

    /// The header alone gives the names, shapes and metadata; a file cut short is refused all the same.
    @Test func describeReadsTheHeaderOnly() throws {
        var rng = RandomGenerator(seed: 3)
        let tensors: [(name: String, tensor: Tensor)] = [("a.weight", Tensor.normal(Shape(4, 3), using: &rng)), ("b", Tensor(zeros: Shape(0))),
                                                         ("c.bias", Tensor.normal(Shape(5), using: &rng))]
        try withTemporaryDirectory { dir in
            let path = dir + "/model.safetensors"
            try SafeTensors.write(tensors, metadata: ["drlrec.agent": "sac"], to: path)
            let (described, metadata) = try SafeTensors.describe(path)
            let read = try SafeTensors.read(from: path).tensors
            #expect(described.map(\.name) == read.map(\.name) && described.map(\.shape) == read.map { $0.tensor.shape.dimensions })
            #expect(Set(described.map(\.name)) == ["a.weight", "b", "c.bias"] && metadata == ["drlrec.agent": "sac"])
            var file = try bytes(of: path)
            file.removeLast(4)
            try store(file, at: path)
            #expect(throws: CheckpointError.self) { try SafeTensors.describe(path) }
        }
    }

    @Test func emptyCheckpointRoundTrips() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/empty.safetensors"
            try SafeTensors.write([], to: path)
            #expect(try bytes(of: path) == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
            let (tensors, metadata) = try SafeTensors.read(from: path)
            #expect(tensors.isEmpty && metadata.isEmpty)
        }
    }

    @Test func writtenBytesFollowTheFormat() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            ("w", Tensor(shape: Shape(2, 3), scalars: [1, 2, 3, 4, 5, 6])),
            ("b", Tensor(shape: Shape(3), scalars: [-1, -2, -3])),
            ("s", Tensor(scalar: 0.5)),
        ]
        try withTemporaryDirectory { dir in
            let path = dir + "/f.safetensors"
            try SafeTensors.write(tensors, metadata: ["k": "v"], to: path)
            let file = try bytes(of: path)
            let n = file[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect((8 + n) % 8 == 0, "data section starts 8-byte aligned")
            #expect(file.count == 8 + n + 4 * (6 + 3 + 1))

            let headerText = String(decoding: file[8..<(8 + n)], as: UTF8.self)
            let padding = headerText.reversed().prefix { $0 == " " }.count
            #expect(padding < 8, "padding is fewer than 8 spaces")
            let trimmed = String(headerText.dropLast(padding))
            #expect(trimmed == #"{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"#
                + #""b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]},"s":{"dtype":"F32","shape":[],"data_offsets":[36,40]}}"#)

            let json = try #require(try JSONSerialization.jsonObject(with: Data(file[8..<(8 + n)])) as? [String: Any])
            #expect(json["__metadata__"] as? [String: String] == ["k": "v"])
            let w = try #require(json["w"] as? [String: Any])
            #expect(w["dtype"] as? String == "F32")
            #expect(w["shape"] as? [Int] == [2, 3])
            #expect(w["data_offsets"] as? [Int] == [0, 24])
            #expect((json["b"] as? [String: Any])?["data_offsets"] as? [Int] == [24, 36])
            #expect((json["s"] as? [String: Any])?["shape"] as? [Int] == [])

            #expect(Array(file[(8 + n)...]) == littleEndianBytes([1, 2, 3, 4, 5, 6, -1, -2, -3, 0.5]))
        }
    }

    @Test func writesOverAnExistingCheckpoint() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/c.safetensors"
            try SafeTensors.write([("x", Tensor(shape: Shape(4), scalars: [1, 2, 3, 4]))], to: path)
            try SafeTensors.write([("y", Tensor(scalar: 9))], to: path)
            let (tensors, _) = try SafeTensors.read(from: path)
            expectSameTensors(tensors, [("y", Tensor(scalar: 9))])
            #expect(try leftovers(in: dir, keeping: ["c.safetensors"]).isEmpty)
        }
    }

    @Test func writesViewsOfLargerTensors() throws {
        let big = Tensor(shape: Shape(4, 2), scalars: [0, 1, 2, 3, 4, 5, 6, 7])
        try withTemporaryDirectory { dir in
            let path = dir + "/v.safetensors"
            try SafeTensors.write([("rows", big[rows: 1..<3]), ("row", big[row: 3])], to: path)
            let (tensors, _) = try SafeTensors.read(from: path)
            #expect(tensors[0].tensor == Tensor(shape: Shape(2, 2), scalars: [2, 3, 4, 5]))
            #expect(tensors[1].tensor == Tensor(shape: Shape(2), scalars: [6, 7]))
        }
    }
}

// MARK: - Interop

@Suite struct CheckpointInteropTests {
    /// Written by Python's safetensors 0.8.0 (`safetensors.numpy.save_file`) with scripts/safetensors_interop.py.
    static func fixturePath() throws -> String {
        try #require(Bundle.module.path(forResource: "interop", ofType: "safetensors", inDirectory: "Fixtures"))
    }

    @Test func readsAFileWrittenByPythonSafetensors() throws {
        let (tensors, metadata) = try SafeTensors.read(from: try Self.fixturePath())
        expectSameTensors(tensors, interopTensors)
        #expect(metadata == interopMetadata)
    }

    @Test func writesTheSameBytesAsPythonSafetensors() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/swift.safetensors"
            try SafeTensors.write(interopTensors, metadata: interopMetadata, to: path)
            #expect(try bytes(of: path) == bytes(of: try Self.fixturePath()))
        }
    }

    /// A file built by hand as another writer might: keys in another order, whitespace, metadata
    /// last, tensors listed out of data order, no padding (data section not aligned).
    @Test func readsHandBuiltFileWithOtherKeyOrder() throws {
        let header = """
        {
          "bias": {"data_offsets": [24, 32], "shape": [2], "dtype": "F32"},
          "weight": {"shape": [2, 3], "data_offsets": [0, 24], "dtype": "F32"},
          "__metadata__": {"b": "2", "a": "1"}
        }
        """
        let data = littleEndianBytes([1, 2, 3, 4, 5, 6, 0.25, -0.25])
        try withTemporaryDirectory { dir in
            let path = dir + "/hand.safetensors"
            try store(handMadeFile(header: header, data: data), at: path)
            let (tensors, metadata) = try SafeTensors.read(from: path)
            expectSameTensors(tensors, [
                ("weight", Tensor(shape: Shape(2, 3), scalars: [1, 2, 3, 4, 5, 6])),
                ("bias", Tensor(shape: Shape(2), scalars: [0.25, -0.25])),
            ])
            #expect(metadata == ["a": "1", "b": "2"])
        }
    }
}

// MARK: - Rejected files

@Suite struct CheckpointRejectionTests {
    private static let twoTensors: [(name: String, tensor: Tensor)] = [
        ("first", Tensor(shape: Shape(2), scalars: [1, 2])),
        ("second", Tensor(shape: Shape(3), scalars: [3, 4, 5])),
    ]

    /// Reads `file` and returns the error, checking that its description names the file and each of `mentions`.
    private func readError(_ file: [UInt8], mentions: [String] = [],
                           sourceLocation: SourceLocation = #_sourceLocation) throws -> CheckpointError.Reason? {
        var result: CheckpointError.Reason?
        try withTemporaryDirectory { dir in
            let path = dir + "/bad.safetensors"
            try store(file, at: path)
            let error = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) {
                try SafeTensors.read(from: path)
            }
            guard let error else { return }
            #expect(error.path == path, sourceLocation: sourceLocation)
            for text in [path] + mentions {
                #expect(error.description.contains(text), "'\(error)' should mention \(text)", sourceLocation: sourceLocation)
            }
            result = error.reason
        }
        return result
    }

    private func validFile() throws -> [UInt8] {
        var file: [UInt8] = []
        try withTemporaryDirectory { dir in
            try SafeTensors.write(Self.twoTensors, to: dir + "/ok.safetensors")
            file = try bytes(of: dir + "/ok.safetensors")
        }
        return file
    }

    private func jsonEntry(_ name: String, dtype: String = "F32", _ shape: [Int], _ offsets: [Int]) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    @Test func truncatedData() throws {
        let file = try validFile()
        let reason = try readError(Array(file.dropLast(3)), mentions: ["'second'", "truncated"])
        #expect(reason == .truncated(name: "second", expected: file.count, actual: file.count - 3))
    }

    @Test func truncatedIntoTheFirstTensor() throws {
        let file = try validFile()
        let reason = try readError(Array(file.dropLast(13)), mentions: ["'first'"])
        #expect(reason == .truncated(name: "first", expected: file.count, actual: file.count - 13))
    }

    @Test func fileShorterThanTheLengthPrefix() throws {
        #expect(try readError([1, 0, 0]) == .truncated(name: nil, expected: 8, actual: 3))
    }

    @Test func trailingBytesAreOversized() throws {
        let file = try validFile()
        let reason = try readError(file + [0, 0, 0, 0], mentions: ["oversized", "4 trailing bytes"])
        #expect(reason == .oversized(expected: file.count, actual: file.count + 4))
    }

    @Test func headerLengthLargerThanTheFile() throws {
        let file = try validFile()
        let declared = UInt64(file.count)  // the header cannot be the whole file plus 8 bytes more
        var patched = file
        withUnsafeBytes(of: declared.littleEndian) { patched.replaceSubrange(0..<8, with: $0) }
        #expect(try readError(patched) == .headerExceedsFile(length: declared, available: file.count - 8))
    }

    @Test func headerLengthOverTheLimit() throws {
        let reason = try readError(handMadeFile(header: "{}", data: [], declaredLength: 1 << 40))
        #expect(reason == .headerTooLarge(length: 1 << 40, limit: SafeTensors.maxHeaderLength))
    }

    @Test func corruptJSON() throws {
        let header = "{" + jsonEntry("w", [1], [0, 4]) + ",\"x\":{\"dtype\":\"F32\",\"sha"
        guard case .invalidHeader(let detail)? = try readError(handMadeFile(header: header, data: [0, 0, 0, 0]),
                                                                mentions: ["not valid JSON"]) else {
            Issue.record("expected invalidHeader"); return
        }
        #expect(!detail.isEmpty)
    }

    /// A tensor named twice in the header was read as its last entry without a word.
    @Test func aTensorNamedTwiceIsRefused() throws {
        let header = "{" + jsonEntry("w", [1], [0, 4]) + "," + jsonEntry("w", [1], [0, 4]) + "}"
        guard case .invalidHeader(let detail)? = try readError(handMadeFile(header: header, data: [0, 0, 0x80, 0x3F])) else {
            Issue.record("expected invalidHeader"); return
        }
        #expect(detail.contains("the field 'w' appears twice"), "\(detail)")
    }

    @Test func headerThatIsNotAnObject() throws {
        guard case .invalidHeader? = try readError(handMadeFile(header: "[1, 2]", data: [])) else {
            Issue.record("expected invalidHeader"); return
        }
    }

    @Test func headerThatIsNotUTF8() throws {
        var file = handMadeFile(header: "{\"ab\":{}}", data: [])
        file[10] = 0xFF
        #expect(try readError(file) == .invalidHeader("the header is not valid UTF-8"))
    }

    @Test func unsupportedDtype() throws {
        let header = "{" + jsonEntry("half", dtype: "F16", [2], [0, 4]) + "}"
        let reason = try readError(handMadeFile(header: header, data: [0, 0, 0, 0]), mentions: ["'half'", "F16", "dtype"])
        #expect(reason == .unsupportedDtype(name: "half", dtype: "F16"))
    }

    @Test func offsetsDisagreeWithShape() throws {
        let header = "{" + jsonEntry("w", [2, 2], [0, 12]) + "}"
        guard case .offsetsInconsistent(name: "w", let detail)? = try readError(
            handMadeFile(header: header, data: Array(repeating: 0, count: 12)), mentions: ["'w'", "data_offsets"]) else {
            Issue.record("expected offsetsInconsistent for w"); return
        }
        #expect(detail.contains("12 bytes") && detail.contains("[2, 2]"))
    }

    @Test func offsetsWithThreeValues() throws {
        let header = "{" + jsonEntry("w", [1], [0, 4, 8]) + "}"
        guard case .offsetsInconsistent(name: "w", _)? = try readError(handMadeFile(header: header, data: [0, 0, 0, 0]),
                                                                      mentions: ["'w'"]) else {
            Issue.record("expected offsetsInconsistent for w"); return
        }
    }

    @Test func overlappingOffsets() throws {
        let header = "{" + jsonEntry("a", [2], [0, 8]) + "," + jsonEntry("b", [2], [4, 12]) + "}"
        guard case .offsetsInconsistent(name: "b", let detail)? = try readError(
            handMadeFile(header: header, data: Array(repeating: 0, count: 12)), mentions: ["'b'", "'a'", "overlaps"]) else {
            Issue.record("expected offsetsInconsistent for b"); return
        }
        #expect(detail.contains("[4, 12]"))
    }

    @Test func gapBetweenTensors() throws {
        let header = "{" + jsonEntry("a", [1], [0, 4]) + "," + jsonEntry("b", [1], [8, 12]) + "}"
        guard case .offsetsInconsistent(name: "b", let detail)? = try readError(
            handMadeFile(header: header, data: Array(repeating: 0, count: 12)), mentions: ["'b'", "gap"]) else {
            Issue.record("expected offsetsInconsistent for b"); return
        }
        #expect(detail.contains("4 bytes") && detail.contains("'a'"))
    }

    @Test func gapAtTheStartOfTheData() throws {
        let header = "{" + jsonEntry("only", [1], [4, 8]) + "}"
        guard case .offsetsInconsistent(name: "only", _)? = try readError(
            handMadeFile(header: header, data: Array(repeating: 0, count: 8)), mentions: ["'only'", "start of the data section"]) else {
            Issue.record("expected offsetsInconsistent for only"); return
        }
    }

    @Test func negativeDimension() throws {
        let header = "{" + jsonEntry("w", [2, -1], [0, 0]) + "}"
        let reason = try readError(handMadeFile(header: header, data: []), mentions: ["'w'", "'shape'"])
        #expect(reason == .invalidEntry(name: "w", field: "shape", detail: "dimension 1 is negative (-1)"))
    }

    @Test func fractionalDimension() throws {
        let header = #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#
        guard case .invalidEntry(name: "w", field: "shape[0]", _)? = try readError(
            handMadeFile(header: header, data: [0, 0, 0, 0]), mentions: ["'w'", "shape[0]"]) else {
            Issue.record("expected invalidEntry for w.shape[0]"); return
        }
    }

    @Test func missingField() throws {
        let header = #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#
        guard case .invalidEntry(name: "w", field: "shape", _)? = try readError(
            handMadeFile(header: header, data: [0, 0, 0, 0]), mentions: ["'w'", "'shape'", "missing"]) else {
            Issue.record("expected invalidEntry for w.shape"); return
        }
    }

    @Test func metadataValueThatIsNotAString() throws {
        let header = #"{"__metadata__":{"step":12}}"#
        guard case .invalidEntry(name: "__metadata__", field: "step", _)? = try readError(
            handMadeFile(header: header, data: []), mentions: ["metadata", "'step'"]) else {
            Issue.record("expected invalidEntry for __metadata__.step"); return
        }
    }

    @Test func rankOverTheMaximum() throws {
        let header = "{" + jsonEntry("deep", [1, 1, 1, 1, 1, 1, 1], [0, 4]) + "}"
        guard case .invalidEntry(name: "deep", field: "shape", _)? = try readError(
            handMadeFile(header: header, data: [0, 0, 0, 0]), mentions: ["'deep'"]) else {
            Issue.record("expected invalidEntry for deep.shape"); return
        }
    }

    @Test func missingFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/absent.safetensors"
            let error = #expect(throws: CheckpointError.self) { try SafeTensors.read(from: path) }
            guard case .io? = error?.reason else { Issue.record("expected io, got \(String(describing: error))"); return }
            #expect(error!.description.contains(path) && error!.description.contains("No such file"))
        }
    }
}

// MARK: - load(from:into:)

@Suite struct CheckpointLoadTests {
    private static let stored: [(name: String, tensor: Tensor)] = [
        ("layer.weight", Tensor(shape: Shape(2, 3), scalars: [1, 2, 3, 4, 5, 6])),
        ("layer.bias", Tensor(shape: Shape(3), scalars: [7, 8, 9])),
    ]

    /// Writes `stored`, then calls `load` into `destinations` and returns the error.
    private func loadError(into destinations: [(name: String, tensor: Tensor)], mentions: [String],
                           sourceLocation: SourceLocation = #_sourceLocation) throws -> CheckpointError.Reason? {
        var result: CheckpointError.Reason?
        try withTemporaryDirectory { dir in
            let path = dir + "/model.safetensors"
            try SafeTensors.write(Self.stored, to: path)
            let error = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) {
                try SafeTensors.load(from: path, into: destinations)
            }
            guard let error else { return }
            for text in [path] + mentions {
                #expect(error.description.contains(text), "'\(error)' should mention \(text)", sourceLocation: sourceLocation)
            }
            result = error.reason
        }
        return result
    }

    @Test func loadsInPlaceIntoWorkspaceTensorsAndParameters() throws {
        let weight = Parameter("weight", shape: Shape(2, 3))
        let flat = Tensor(workspace: Shape(5))
        let biasView = flat[rows: 1..<4]  // a view into a larger workspace buffer
        try withTemporaryDirectory { dir in
            let path = dir + "/model.safetensors"
            try SafeTensors.write(Self.stored, to: path)
            try SafeTensors.load(from: path, into: [("layer.bias", biasView), ("layer.weight", weight.value)])
        }
        #expect(weight.value.scalars == [1, 2, 3, 4, 5, 6])
        #expect(flat.scalars == [0, 7, 8, 9, 0])
    }

    @Test func shapeMismatch() throws {
        let weight = Tensor(workspace: Shape(3, 2))
        let bias = Tensor(workspace: Shape(3))
        let reason = try loadError(into: [("layer.weight", weight), ("layer.bias", bias)],
                                   mentions: ["'layer.weight'", "[2, 3]", "[3, 2]"])
        #expect(reason == .shapeMismatch(name: "layer.weight", expected: [3, 2], found: [2, 3]))
        #expect(weight.scalars == [0, 0, 0, 0, 0, 0] && bias.scalars == [0, 0, 0], "nothing loaded")
    }

    @Test func missingTensors() throws {
        let bias = Tensor(workspace: Shape(3))
        let reason = try loadError(
            into: [("layer.weight", Tensor(workspace: Shape(2, 3))), ("layer.bias", bias), ("head.weight", Tensor(workspace: Shape(1)))],
            mentions: ["'head.weight'", "missing"])
        #expect(reason == .tensorNamesMismatch(missing: ["head.weight"], unexpected: []))
        #expect(bias.scalars == [0, 0, 0], "nothing loaded")
    }

    @Test func unexpectedTensors() throws {
        let reason = try loadError(into: [("layer.weight", Tensor(workspace: Shape(2, 3)))],
                                   mentions: ["'layer.bias'", "not expected"])
        #expect(reason == .tensorNamesMismatch(missing: [], unexpected: ["layer.bias"]))
    }

    @Test func missingAndUnexpectedTogether() throws {
        let reason = try loadError(
            into: [("layer.weight", Tensor(workspace: Shape(2, 3))), ("layer.b", Tensor(workspace: Shape(3)))],
            mentions: ["'layer.b'", "'layer.bias'"])
        #expect(reason == .tensorNamesMismatch(missing: ["layer.b"], unexpected: ["layer.bias"]))
    }

    @Test func duplicateDestinations() throws {
        let reason = try loadError(
            into: [("layer.weight", Tensor(workspace: Shape(2, 3))), ("layer.weight", Tensor(workspace: Shape(2, 3)))],
            mentions: ["'layer.weight'"])
        #expect(reason == .invalidName("layer.weight", detail: "appears more than once among the destinations"))
    }
}

// MARK: - Atomic writes

@Suite struct CheckpointAtomicityTests {
    private static let old: [(name: String, tensor: Tensor)] = [("old", Tensor(shape: Shape(2), scalars: [1, 2]))]
    private static let new: [(name: String, tensor: Tensor)] = [("new", Tensor(shape: Shape(1000), repeating: 3))]

    /// Writes `old` to a checkpoint, runs `failingWrite` on its path (which must throw), then checks
    /// that the old file is byte for byte intact and that no temporary file is left.
    private func expectOldFileSurvives(_ failingWrite: (String) throws(CheckpointError) -> Void,
                                       sourceLocation: SourceLocation = #_sourceLocation) throws -> CheckpointError? {
        var result: CheckpointError?
        try withTemporaryDirectory { dir in
            let path = dir + "/ckpt.safetensors"
            try SafeTensors.write(Self.old, to: path)
            let before = try bytes(of: path)
            result = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) { try failingWrite(path) }
            #expect(try bytes(of: path) == before, "old checkpoint intact", sourceLocation: sourceLocation)
            #expect(try leftovers(in: dir, keeping: ["ckpt.safetensors"]) == [], "no temporary file", sourceLocation: sourceLocation)
            expectSameTensors(try SafeTensors.read(from: path).tensors, Self.old, sourceLocation: sourceLocation)
        }
        return result
    }

    @Test func duplicateNameIsRejectedBeforeWriting() throws {
        let error = try expectOldFileSurvives { path throws(CheckpointError) in
            try SafeTensors.write(Self.new + [("new", Tensor(scalar: 1))], to: path)
        }
        #expect(error?.reason == .invalidName("new", detail: "appears more than once"))
        #expect(error?.description.contains("'new'") == true)
    }

    @Test func emptyAndReservedNamesAreRejected() throws {
        let empty = try expectOldFileSurvives { path throws(CheckpointError) in
            try SafeTensors.write([("", Tensor(scalar: 1))], to: path)
        }
        #expect(empty?.reason == .invalidName("", detail: "is empty"))
        let reserved = try expectOldFileSurvives { path throws(CheckpointError) in
            try SafeTensors.write([("__metadata__", Tensor(scalar: 1))], to: path)
        }
        #expect(reserved?.reason == .invalidName("__metadata__", detail: "is reserved for the metadata"))
    }

    @Test func failureAfterTheDataIsWrittenLeavesTheOldFile() throws {
        for stage in [SafeTensors.InjectedFailure.afterData, .beforeRename] {
            let error = try expectOldFileSurvives { path throws(CheckpointError) in
                try SafeTensors.write(Self.new, metadata: [:], to: path, failingAt: stage)
            }
            guard case .io? = error?.reason else { Issue.record("expected io for \(stage)"); continue }
        }
    }

    /// A real failure after the data is written: the rename onto a directory fails.
    @Test func failedRenameRemovesTheTemporaryFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/taken"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try store([1, 2, 3], at: path + "/inside")
            let error = #expect(throws: CheckpointError.self) { try SafeTensors.write(Self.new, to: path) }
            guard case .io(let message)? = error?.reason else { Issue.record("expected io"); return }
            #expect(message.contains("renaming"))
            #expect(try leftovers(in: dir, keeping: ["taken"]) == [])
            #expect(try bytes(of: path + "/inside") == [1, 2, 3])
        }
    }

    @Test func missingDirectory() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/no/such/dir/ckpt.safetensors"
            let error = #expect(throws: CheckpointError.self) { try SafeTensors.write(Self.new, to: path) }
            guard case .io? = error?.reason else { Issue.record("expected io"); return }
            #expect(error!.description.contains(path))
        }
    }

    /// Where the temporary file goes (the destination's directory) and which directory is synced.
    @Test func pathSplitting() {
        #expect(SafeTensors.splitPath("model.safetensors") == (".", "", "model.safetensors"))
        #expect(SafeTensors.splitPath("ckpt/model.safetensors") == ("ckpt", "ckpt/", "model.safetensors"))
        #expect(SafeTensors.splitPath("/model.safetensors") == ("/", "/", "model.safetensors"))
        #expect(SafeTensors.splitPath("/a/b/é.safetensors") == ("/a/b", "/a/b/", "é.safetensors"))
        #expect(SafeTensors.splitPath("/a/b/") == ("/a/b", "/a/b/", ""))
    }
}
