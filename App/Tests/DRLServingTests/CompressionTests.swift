import DRLData
import DRLEvaluation
import DRLNN
import DRLRanking
import DRLTensor
import Foundation
import Testing

@Suite struct CompressionTests {
    /// A factorised model is stored as factors (a smaller file, (m + n)·r numbers per matrix),
    /// loads to the same scores, and stays on its rank through training.
    @Test func lowRankFactorsRoundTripAndStayLowRank() throws {
        let log = Fixtures.cycleLog()
        let model = try NextItemModel.load(from: Fixtures.cycleCheckpoint, log: log, epochs: 2, learningRate: 1e-3)
        let before = model.servingParameterCount
        for name in model.catalogueMatrices { try model.factorize(name, rank: 4) }
        let item = try #require(model.store.parameters.first { $0.name == "encoder.item.weight" }).parameter.value
        let output = try #require(model.store.parameters.first { $0.name == "output.weight" }).parameter.value
        #expect(model.servingParameterCount == before - item.count - output.count + (25 + 16) * 4 + (24 + 16) * 4)
        #expect(try LinearAlgebra.svd(output).s.scalars[4...].allSatisfy { $0 < 1e-4 })

        let directory = Fixtures.scratchDirectory("low-rank")
        try model.save(to: directory + "/dense.safetensors")
        let history = (0..<6).map { UserEvent(item: Int32($0), event: .click, value: 1, timestamp: Int64($0) * 3600) }
        let expected = model.score(history: history[...], context: [1]).scalars
        let loaded = try NextItemModel.load(from: directory + "/dense.safetensors")
        let scores = loaded.score(history: history[...], context: [1]).scalars
        #expect(zip(expected, scores).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) })
        let names = try SafeTensors.describe(directory + "/dense.safetensors").tensors.map(\.name)
        #expect(names.contains("output.weight.low_rank_u") && !names.contains("output.weight"))

        try model.train(on: LeaveOneOutSplit(log), seed: 1)
        #expect(try LinearAlgebra.svd(output).s.scalars[4...].allSatisfy { $0 < 1e-4 })
        #expect(throws: UnknownParameterError.self) { try model.factorize("output.bias", rank: 1) }
    }

    /// A pruned matrix keeps exactly the entries largest in magnitude, is stored sparse (values
    /// and positions: fewer numbers than dense beyond half sparsity), loads back bit-identical, and
    /// stays pruned through training.
    @Test func prunedMatricesRoundTripAndStaySparse() throws {
        let log = Fixtures.cycleLog()
        let model = try NextItemModel.load(from: Fixtures.cycleCheckpoint, log: log, epochs: 2, learningRate: 1e-3)
        let output = try #require(model.store.parameters.first { $0.name == "output.weight" }).parameter.value
        let dense = output.scalars
        let before = model.servingParameterCount
        try model.prune("output.weight", sparsity: 0.75)
        let pruned = output.scalars
        let kept = pruned.filter { $0 != 0 }.count
        #expect(kept == dense.count / 4)
        let smallestKept = pruned.filter { $0 != 0 }.map(abs).min()!
        #expect(zip(dense, pruned).allSatisfy { $1 != 0 || abs($0) <= smallestKept })
        #expect(model.servingParameterCount == before - dense.count + 2 * kept)

        let path = Fixtures.scratchDirectory("pruned") + "/pruned.safetensors"
        try model.save(to: path)
        let loaded = try NextItemModel.load(from: path)
        #expect(try #require(loaded.store.parameters.first { $0.name == "output.weight" }).parameter.value.scalars == pruned)
        #expect(loaded.compression["output.weight"] == .pruned(sparsity: 0.75))

        try model.train(on: LeaveOneOutSplit(log), seed: 1)
        #expect(output.scalars.filter { $0 != 0 }.count == kept)
        #expect(output.scalars != pruned)  // the kept entries trained
    }

    /// Distillation pulls a student's next-item distribution towards its teacher's: after the
    /// same training, the distilled student is closer to the teacher (KL between the distributions
    /// softened by the distillation temperature, 2) than one trained on the logged next items alone.
    @Test func distillationMovesTheStudentTowardsTheTeacher() throws {
        let log = Fixtures.cycleLog()
        let teacher = try NextItemModel.load(from: Fixtures.cycleCheckpoint, log: log)
        var configuration = NextItemModel.Configuration()
        configuration.historyLength = teacher.configuration.historyLength
        configuration.dimension = 8
        configuration.epochs = 20
        configuration.batchSize = 16
        configuration.learningRate = 3e-3
        configuration.validationInterval = 20
        func student(distilled: Bool) throws -> NextItemModel {
            let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 5)
            try model.train(on: LeaveOneOutSplit(log), seed: 6, distillation: distilled ? NextItemModel.Distillation(teacher: teacher) : nil)
            return model
        }
        func divergence(_ model: NextItemModel) -> Double {
            var total = 0.0
            for start in 0..<24 {
                for stride in 1...3 {
                    let history = (0..<5).map { UserEvent(item: Int32((start + $0 * stride) % 24), event: .click, value: 1, timestamp: Int64($0) * 3600) }
                    var t = teacher.score(history: history[...], context: [Float(stride)]).clone(), s = model.score(history: history[...], context: [Float(stride)]).clone()
                    scal(0.5, &t)
                    scal(0.5, &s)
                    let p = softmax(t).scalars, q = softmax(s).scalars
                    for (pi, qi) in zip(p, q) {
                        let (a, b) = (Double(max(pi, 1e-12)), Double(max(qi, 1e-12)))
                        total += a * (Foundation.log(a) - Foundation.log(b))
                    }
                }
            }
            return total / 72
        }
        let plain = divergence(try student(distilled: false)), distilled = divergence(try student(distilled: true))
        #expect(distilled < 0.9 * plain, "KL to the teacher: distilled \(distilled), plain \(plain)")
    }
}
