import DRLTensor
import Foundation
import Testing

/// Programming errors stop the process with a message that names the shapes involved. Each case
/// runs in a child process (an exit test) whose standard error is checked.
@Suite struct TrapMessageTests {
    func standardError(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func gemmShapeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var c = Tensor(zeros: Shape(2, 2))
            matmul(Tensor(zeros: Shape(2, 3)), Tensor(zeros: Shape(4, 2)), into: &c)
        }
        let message = standardError(result)
        #expect(message.contains("[2, 3]") && message.contains("[4, 2]"), "\(message)")
    }

    @Test func elementwiseShapeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var out = Tensor(zeros: Shape(3, 5))
            add(Tensor(zeros: Shape(3, 5)), Tensor(zeros: Shape(5, 3)), into: &out)
        }
        let message = standardError(result)
        #expect(message.contains("[3, 5]") && message.contains("[5, 3]"), "\(message)")
    }

    @Test func outOfRangeEmbeddingIndexNamesIndexPositionAndTableSize() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var out = Tensor(zeros: Shape(2, 4))
            gatherRows(Tensor(zeros: Shape(10, 4)), indices: [3, 12], into: &out)
        }
        let message = standardError(result)
        #expect(message.contains("index 12 at position 1") && message.contains("10 rows"), "\(message)")
    }
}
