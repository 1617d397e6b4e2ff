import Dispatch
import DRLTensor
import Synchronization
import Testing

@Suite struct ParallelTests {
    @Test func kernelsCalledFromManyThreadsAtOnceGiveTheSameResults() {
        // Large enough to use the worker pool; callers that find the pool busy run inline.
        let x = randomTensor(Shape(2048, 300), seed: 1, low: -4, high: 4)
        let expectedSoftmax = softmax(x)
        let expectedGelu = Activation.gelu(x)
        let mismatches = Counter()
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            if i % 2 == 0 {
                if softmax(x) != expectedSoftmax { mismatches.increment() }
            } else {
                if Activation.gelu(x) != expectedGelu { mismatches.increment() }
            }
        }
        #expect(mismatches.value == 0)
    }

    @Test func repeatedSmallAndLargeCallsInterleave() {
        // Alternating inline (small) and pooled (large) calls, many times: every pooled job must see
        // all of its chunks run exactly once.
        var large = Tensor(zeros: Shape(1 << 18))
        let small = Tensor(shape: Shape(8), repeating: 1)
        var smallOut = Tensor(zeros: Shape(8))
        for round in 1...200 {
            large += 1
            add(small, small, into: &smallOut)
            if round % 50 == 0 { #expect(large.scalars.allSatisfy { $0 == Float(round) }) }
        }
        #expect(smallOut.scalars == Array(repeating: 2, count: 8))
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
