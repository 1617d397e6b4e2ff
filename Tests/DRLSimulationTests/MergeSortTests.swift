import DRLTensor
import Testing
@testable import DRLSimulation

/// The two-stage builder's allocation-free sort of its selection keys against the standard
/// library's sort: every length around the insertion runs (8) and the merge widths, with
/// repeated keys, already sorted and reversed input; the scratch may be longer than the keys.
@Suite struct MergeSortTests {
    @Test(arguments: [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 64, 100, 257, 1000])
    func sortsAsTheStandardLibraryDoes(count: Int) {
        var rng = RandomGenerator(seed: UInt64(count) + 1)
        let random = (0..<count).map { _ in rng.next() % 50 << 32 | rng.next() % 7 }
        for input in [random, random.sorted(), random.sorted(by: >)] {
            var keys = input
            var scratch = [UInt64](repeating: 0, count: count + 5)
            keys.withUnsafeMutableBufferPointer { keys in scratch.withUnsafeMutableBufferPointer { mergeSort(keys, scratch: $0) } }
            #expect(keys == input.sorted(), "\(count) keys")
        }
    }
}
