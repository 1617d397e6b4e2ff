import DRLData
import DRLDistributed
import DRLNN
import DRLRanking
import DRLTensor
import Foundation
import Testing

/// Data-parallel training, with two ranks in one process on two threads (`ThreadedPair`): what
/// `mpirun -np 2 drlrec fit` does over Open MPI, checked here without MPI.
@Suite struct DataParallelTrainingTests {
    /// SQN's TD head, REINFORCE with the novelty reward, and the running normalisers all take
    /// part (or, `sampled`, the cross-entropy on 7 sampled negatives a batch, which every rank must
    /// draw alike), and a batch size chosen so that the epoch's last batch holds one window: rank 0
    /// has no share of it.
    static func configuration(batchSize: Int, sampled: Bool = false) -> NextItemModel.Configuration {
        var configuration = NextItemModel.Configuration()
        configuration.historyLength = 6
        configuration.dimension = 16
        configuration.epochs = 2
        configuration.batchSize = batchSize
        configuration.learningRate = 3e-3
        configuration.validationInterval = 2
        if sampled {
            configuration.sampledSoftmax = .init(negatives: 7, exponent: 0.5)
        } else {
            configuration.qLearningWeight = 1
            configuration.reinforce = .init(weight: 0.5, noveltyReward: 0.2)
        }
        return configuration
    }

    static let log = SyntheticLog.generate(users: 73, items: 20, eventsPerUser: 14, jump: 0.2, seed: 9)

    /// A batch size whose epochs end with a batch of one window.
    static func batchSizeLeavingOneWindow() throws -> Int {
        var one = configuration(batchSize: 8)
        one.epochs = 1
        let windows = try {
            let model = NextItemModel(log: log, categories: categories, configuration: one, seed: 3)
            try model.train(on: LeaveOneOutSplit(log), seed: 5)
            return model.trainingThroughput.windowsPerEpoch
        }()
        return try #require((5...40).first { windows % $0 == 1 }, "no batch size in 5...40 leaves one of \(windows) windows")
    }

    static var categories: [Int32] { [Int32](repeating: 0, count: log.itemCount) }

    /// The two ranks' steps are the one process's: the losses of each epoch, the last step's
    /// gradient (the one-window batch, all on rank 1) and the parameters after two epochs agree
    /// with training in one process to rounding, and the ranks' parameters are bit for bit equal.
    @Test(arguments: [false, true]) func twoRanksTakeTheStepsOfOneProcess(sampled: Bool) throws {
        let batchSize = try Self.batchSizeLeavingOneWindow()
        let split = LeaveOneOutSplit(Self.log)
        let single = NextItemModel(log: Self.log, categories: Self.categories, configuration: Self.configuration(batchSize: batchSize, sampled: sampled), seed: 3)
        var singleLosses: [Float] = []
        try single.train(on: split, seed: 5) { _, loss, _ in singleLosses.append(loss) }

        let ranks = (0..<2).map { _ in
            NextItemModel(log: Self.log, categories: Self.categories, configuration: Self.configuration(batchSize: batchSize, sampled: sampled), seed: 3)
        }
        let losses = try ThreadedPair.run { group in
            var losses: [Float] = []
            try ranks[group.rank].train(on: split, seed: 5, group: group) { _, loss, _ in losses.append(loss) }
            return losses
        }
        #expect(ranks[0].store.valuesHash() == ranks[1].store.valuesHash(), "the ranks' parameters differ")
        #expect(losses[0] == losses[1])
        #expect(losses[0].count == singleLosses.count)
        for (shared, alone) in zip(losses[0], singleLosses) {
            #expect(abs(shared - alone) <= 1e-4 * abs(alone), "epoch losses \(losses[0]) over two ranks, \(singleLosses) in one process")
        }
        func largestDifference(_ a: Tensor, _ b: Tensor) -> (difference: Float, scale: Float) {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    (zip(a, b).map { abs($0 - $1) }.max() ?? 0, a.map(abs).max() ?? 0)
                }
            }
        }
        let gradient = largestDifference(ranks[1].store.gradients, single.store.gradients)
        #expect(gradient.scale > 0)
        #expect(gradient.difference <= 1e-3 * gradient.scale, "the last step's gradient: \(gradient)")
        let values = largestDifference(ranks[0].store.values, single.store.values)
        #expect(values.difference <= 1e-3 * values.scale, "the parameters after two epochs: \(values)")
        #expect(ranks[0].trainingThroughput.windowsPerEpoch == single.trainingThroughput.windowsPerEpoch)
    }

    /// Ranks that do not start alike (here another seed's initial weights on rank 1) are caught
    /// after the first epoch, on both, with the epoch and the hashes.
    @Test func ranksThatDifferStopAfterTheFirstEpoch() throws {
        let split = LeaveOneOutSplit(Self.log)
        let ranks = [3, 4].map { NextItemModel(log: Self.log, categories: Self.categories, configuration: Self.configuration(batchSize: 16), seed: $0) }
        let outcomes = try ThreadedPair.run { group -> String in
            do throws(TrainingError) {
                try ranks[group.rank].train(on: split, seed: 5, group: group)
                return "trained"
            } catch .diverged(let epoch, let hashes) {
                return "diverged after epoch \(epoch), hashes equal: \(hashes.lowerBound == hashes.upperBound)"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcomes == ["diverged after epoch 1, hashes equal: false", "diverged after epoch 1, hashes equal: false"])
    }
}

/// Two ranks of one process, each on a thread of its own: every collective waits for both, adds
/// rank 0's buffer and rank 1's in that order, and gives both the sum.
final class ThreadedPair: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [UnsafeMutableRawPointer?] = [nil, nil]
    private var arrived = 0, generation = 0

    /// Runs `body` on two threads, one per rank, and returns each rank's result.
    static func run<Result>(_ body: @escaping (ProcessGroup) throws -> Result) throws -> [Result] {
        let pair = ThreadedPair()
        let results = Results<Result>()
        nonisolated(unsafe) let body = body  // each thread calls it with its own rank
        let threads = (0..<2).map { rank in
            Thread {
                do { results.set(rank, .success(try body(Rank(rank: rank, pair: pair)))) } catch { results.set(rank, .failure(error)) }
            }
        }
        for thread in threads {
            thread.stackSize = 16 << 20
            thread.start()
        }
        return try results.wait(count: 2).map { try $0.get() }
    }

    /// Both ranks' buffers of `count` elements: rank 0's + rank 1's, into both.
    func combine<Element: AdditiveArithmetic>(rank: Int, _ buffer: UnsafeMutableBufferPointer<Element>,
                                              _ merge: (Element, Element) -> Element = { $0 + $1 }) {
        condition.lock()
        defer { condition.unlock() }
        let round = generation
        slots[rank] = UnsafeMutableRawPointer(buffer.baseAddress)
        arrived += 1
        if arrived == 2 {
            let first = slots[0]!.assumingMemoryBound(to: Element.self), second = slots[1]!.assumingMemoryBound(to: Element.self)
            for i in 0..<buffer.count {
                let merged = merge(first[i], second[i])
                first[i] = merged
                second[i] = merged
            }
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == round { condition.wait() }
        }
    }

    final class Rank: ProcessGroup {
        let rank: Int
        var size: Int { 2 }
        private let pair: ThreadedPair
        init(rank: Int, pair: ThreadedPair) { (self.rank, self.pair) = (rank, pair) }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(ProcessGroupError) { pair.combine(rank: rank, values) }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(ProcessGroupError) { pair.combine(rank: rank, values) }
        func allReduceRange(_ value: UInt64) throws(ProcessGroupError) -> ClosedRange<UInt64> {
            var low = value, high = value
            withUnsafeMutablePointer(to: &low) { pair.combine(rank: rank, UnsafeMutableBufferPointer(start: $0, count: 1), min) }
            withUnsafeMutablePointer(to: &high) { pair.combine(rank: rank, UnsafeMutableBufferPointer(start: $0, count: 1), max) }
            return low...high
        }
    }

    /// The ranks' results, handed back to the thread that waits for them.
    final class Results<Result>: @unchecked Sendable {
        private let condition = NSCondition()
        private var results: [Int: Swift.Result<Result, any Error>] = [:]
        func set(_ rank: Int, _ result: Swift.Result<Result, any Error>) {
            condition.lock()
            results[rank] = result
            condition.broadcast()
            condition.unlock()
        }
        func wait(count: Int) -> [Swift.Result<Result, any Error>] {
            condition.lock()
            defer { condition.unlock() }
            while results.count < count { condition.wait() }
            return (0..<count).map { results[$0]! }
        }
    }
}
