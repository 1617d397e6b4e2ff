import DRLData
import DRLEvaluation
import DRLNN
import DRLRanking
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct NextItemModelTests {
    /// A small model for 12-item logs, trained 20 epochs, whose RL heads see one-step returns (γ = 0).
    static func smallOneStepConfiguration() -> NextItemModel.Configuration {
        var configuration = NextItemModel.Configuration()
        configuration.historyLength = 6
        configuration.dimension = 16
        configuration.epochs = 20
        configuration.batchSize = 16
        configuration.learningRate = 3e-3
        configuration.validationInterval = 20
        configuration.gamma = 0
        return configuration
    }

    /// A small model for the 24-item cycle logs, trained 30 epochs, validated every 5.
    static func cycleConfiguration() -> NextItemModel.Configuration {
        var configuration = NextItemModel.Configuration()
        configuration.historyLength = 8
        configuration.dimension = 16
        configuration.epochs = 30
        configuration.batchSize = 16
        configuration.learningRate = 3e-3
        configuration.validationInterval = 5
        return configuration
    }

    /// Users walk a cycle of 24 items, each with a stride of their own (1, 2 or 3, told by the
    /// context), so the next item follows from the last one and the stride. The ranker, trained
    /// at every position, puts the held-out next item first for most users, where popularity
    /// cannot.
    @Test func learnsSequentialPatterns() throws {
        let log = SyntheticLog.generate(users: 90, items: 24, eventsPerUser: 12, jump: 0, seed: 4)
        let split = LeaveOneOutSplit(log)
        let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: Self.cycleConfiguration(), seed: 1)
        try model.train(on: split, seed: 2)
        let test = model.evaluate(split, on: .test, k: 1)
        #expect(test.hitRate > 0.8, "HR@1 \(test.hitRate); validation curve \(model.validationCurve)")
        let counts = Tensor(shape: Shape(split.items), scalars: split.trainingCounts)
        let popularity = evaluateRanking(split, on: .test, k: 1) { _, scores in scores.copy(from: counts) }
        #expect(test.hitRate > popularity.hitRate + 0.5, "popularity HR@1 \(popularity.hitRate)")
    }

    /// On a catalogue of 300 items, a head trained on 24 sampled negatives a batch (log-Q
    /// corrected, drawn by popularity) learns the walks about as well as the full softmax, tied or
    /// not, and far above popularity; its checkpoint records the sampling.
    @Test func sampledSoftmaxLearnsWhatTheFullSoftmaxLearns() throws {
        let log = SyntheticLog.generate(users: 400, items: 300, eventsPerUser: 12, jump: 0, seed: 5)
        let split = LeaveOneOutSplit(log), categories = [Int32](repeating: 0, count: log.itemCount)
        func trained(_ sampled: NextItemModel.SampledSoftmax?, tied: Bool = false) throws -> (NextItemModel, RankingMetrics) {
            var configuration = Self.cycleConfiguration()
            configuration.sampledSoftmax = sampled
            configuration.tiedOutput = tied
            let model = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 1)
            try model.train(on: split, seed: 2)
            return (model, model.evaluate(split, on: .test))
        }
        let full = try trained(nil).1
        let (model, sampled) = try trained(.init(negatives: 24, exponent: 0.75))
        let tied = try trained(.init(negatives: 24, exponent: 0.75), tied: true).1
        let counts = Tensor(shape: Shape(split.items), scalars: split.trainingCounts)
        let popularity = evaluateRanking(split, on: .test) { _, scores in scores.copy(from: counts) }
        #expect(full.hitRate > 0.6, "full softmax HR@10 \(full.hitRate)")
        #expect(sampled.hitRate > full.hitRate - 0.1 && tied.hitRate > full.hitRate - 0.1,
                "sampled HR@10 \(sampled.hitRate), tied \(tied.hitRate), full \(full.hitRate)")
        #expect(sampled.hitRate > popularity.hitRate + 0.4, "popularity HR@10 \(popularity.hitRate)")
        let path = Scratch.path("sampled.safetensors")
        try model.save(to: path)
        let recorded = try NextItemModel.recordedTraining(at: path)
        #expect(recorded["sampled_softmax_negatives"] == "24" && recorded["sampled_softmax_exponent"] == "0.75")
    }

    /// Evaluated on a sample of users, a model gives exactly those users' rankings from the
    /// evaluation of all (scored in blocks either way).
    @Test func anEvaluationOnASampleOfUsersIsTheirsFromTheWhole() throws {
        let log = SyntheticLog.generate(users: 700, items: 40, eventsPerUser: 6, jump: 0.3, seed: 6)
        let split = LeaveOneOutSplit(log)
        var configuration = Self.cycleConfiguration()
        configuration.epochs = 2
        let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 1)
        try model.train(on: split, seed: 2)
        let all = model.evaluate(split, on: .test)
        // Trained alike (two epochs, validated once, at the last): the same weights.
        configuration.evaluationUsers = 300
        let sampledModel = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 1)
        try sampledModel.train(on: split, seed: 2)
        #expect(sampledModel.store.values.scalars == model.store.values.scalars)
        let sample = sampledModel.evaluate(split, on: .test)
        #expect(sample.users == 300 && all.users == 700)
        // The sampled users, in order, are found in the whole evaluation's by their top lists.
        let k = all.k
        var matched = 0, next = 0
        for u in 0..<sample.users {
            let top = sample.userTopItems[(u * k)..<((u + 1) * k)]
            while next < all.users && all.userTopItems[(next * k)..<((next + 1) * k)] != top { next += 1 }
            if next < all.users, all.userHits[next] == sample.userHits[u] { matched += 1; next += 1 }
        }
        #expect(matched == 300)
    }

    /// The SASRec recipe (two blocks, the item embedding as the output, dropout, a final norm and
    /// a linear state) learns the same patterns; early stopping ends training once validation
    /// stops improving; a checkpoint keeps the recipe and scores alike, and a file whose metadata
    /// claims blocks it does not hold, or disowns the final norm it holds, is refused before
    /// anything is built from it.
    @Test func aTiedTwoBlockModelWithDropoutLearnsAndRoundTrips() throws {
        let log = SyntheticLog.generate(users: 90, items: 24, eventsPerUser: 12, jump: 0, seed: 4)
        let split = LeaveOneOutSplit(log)
        var configuration = Self.cycleConfiguration()
        configuration.blocks = 2
        configuration.tiedOutput = true
        configuration.dropout = 0.1
        configuration.finalNormalization = true
        configuration.linearState = true
        configuration.epochs = 200
        configuration.patience = 3
        let categories = [Int32](repeating: 0, count: log.itemCount)
        let model = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 1)
        #expect(!model.store.parameters.contains { $0.name.hasPrefix("output.weight") })
        #expect(model.store.parameters.contains { $0.name == "encoder.sequence.1.ln1.weight" })
        #expect(model.catalogueMatrices == ["encoder.item.weight"])
        try model.train(on: split, seed: 2)
        let test = model.evaluate(split, on: .test, k: 1)
        #expect(test.hitRate > 0.8, "HR@1 \(test.hitRate); validation curve \(model.validationCurve)")
        // Stopped three validations after the best, well before 200 epochs.
        let curve = model.validationCurve, bestIndex = curve.indices.max { curve[$0].ndcg < curve[$1].ndcg }!
        #expect(curve.count == bestIndex + 4 && curve.last!.epoch < 200, "validation curve \(curve)")

        let path = Scratch.path("tied.safetensors")
        try model.save(to: path)
        let loaded = try NextItemModel.load(from: path)
        #expect(loaded.configuration.blocks == 2 && loaded.configuration.tiedOutput && loaded.configuration.dropout == 0.1
                && loaded.configuration.finalNormalization && loaded.configuration.linearState)
        let history = split.trainRows[0].map(split.sequences.userEvent)
        let context = split.sequences.contextValues(split.trainRows[0].last!)
        #expect(loaded.score(history: history[...], context: context).scalars == model.score(history: history[...], context: context).scalars)

        let (tensors, metadata) = try SafeTensors.read(from: path)
        var garbled = metadata
        garbled["drlrec.next_item.tied_output"] = "yes"
        try SafeTensors.write(tensors, metadata: garbled, to: path)
        #expect { _ = try NextItemModel.load(from: path) } throws: { "\($0)".contains("tied_output' is 'yes', not true or false") }
        var disowned = metadata
        disowned.removeValue(forKey: "drlrec.next_item.final_norm")
        try SafeTensors.write(tensors, metadata: disowned, to: path)
        #expect { _ = try NextItemModel.load(from: path) } throws: { "\($0)".contains("encoder.final_norm.weight") }
        for claim in ["3", String(1 << 40)] {
            var lie = metadata
            lie["drlrec.next_item.blocks"] = claim
            try SafeTensors.write(tensors, metadata: lie, to: path)
            #expect { _ = try NextItemModel.load(from: path) } throws: { "\($0)".contains("the metadata says \(claim) transformer blocks") }
        }
    }

    /// The learning-rate schedule reaches the optimizer: over one epoch, a warm-up of a thousand
    /// epochs barely moves the weights, and a cosine decay to 0 moves them less than a constant rate.
    /// A weight average is what training keeps.
    @Test func theLearningRateScheduleReachesTheOptimizer() throws {
        let log = SyntheticLog.generate(users: 90, items: 24, eventsPerUser: 12, jump: 0, seed: 4)
        let split = LeaveOneOutSplit(log)
        func movement(_ change: (inout NextItemModel.Configuration) -> Void) throws -> Float {
            var configuration = Self.cycleConfiguration()
            configuration.epochs = 1
            configuration.validationInterval = 1
            change(&configuration)
            let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 1)
            // The normalizers' running statistics move whatever the rate; the weights are what the optimizer moves.
            let weights = model.store.parameters.filter { !$0.name.contains("normalizer") }.map(\.parameter)
            let before = weights.map { $0.value.clone() }
            try model.train(on: split, seed: 2)
            var moved: Float = 0
            for (parameter, start) in zip(weights, before) {
                for i in 0..<start.count { moved += abs(parameter.value[flat: i] - start[flat: i]) }
            }
            return moved
        }
        let constant = try movement { _ in }
        let warm = try movement { $0.warmupEpochs = 1000 }
        let cosine = try movement { $0.learningRateDecay = .cosine }
        #expect(warm < 0.01 * constant, "moved \(warm) with the warm-up, \(constant) without")
        #expect(cosine < 0.9 * constant && cosine > 0.1 * constant, "moved \(cosine) with the cosine decay, \(constant) at a constant rate")
        // The kept weights are the average: with a decay near 1 it has hardly left the start.
        let averaged = try movement { $0.weightAverage = 0.9999 }
        #expect(averaged < 0.05 * constant, "the average moved \(averaged), the weights \(constant)")
        // At a batch of 16, a quarter of the reference 64, the learning rate scaled by the square
        // root is halved and scaled linearly quartered; Adam's steps shrink with it.
        let root = try movement { $0.learningRateScaling = .squareRoot }, linear = try movement { $0.learningRateScaling = .linear }
        #expect(linear < 0.8 * root && root < 0.8 * constant, "moved \(linear) scaled linearly, \(root) by the square root, \(constant) unscaled")
    }

    /// The learning rate a batch size trains at, and the training record a checkpoint keeps.
    @Test func theLearningRateFollowsTheBatchAndTheCheckpointRecordsIt() throws {
        var configuration = Self.cycleConfiguration()
        configuration.epochs = 1
        configuration.batchSize = 1024
        configuration.learningRate = 1e-3
        #expect(configuration.scaledLearningRate == 1e-3)
        configuration.learningRateScaling = .squareRoot
        #expect(abs(configuration.scaledLearningRate - 4e-3) < 1e-9)
        configuration.learningRateScaling = .linear
        #expect(abs(configuration.scaledLearningRate - 16e-3) < 1e-9)
        configuration.warmupEpochs = 2
        let log = SyntheticLog.generate(users: 30, items: 24, eventsPerUser: 12, jump: 0, seed: 4)
        let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 1)
        let path = Scratch.directory("training-record") + "/model.safetensors"
        try model.save(to: path)
        let record = try NextItemModel.recordedTraining(at: path)
        #expect(record["batch_size"] == "1024" && record["learning_rate"] == "0.001" && record["learning_rate_scaling"] == "linear"
                && record["scaled_learning_rate"] == "0.016" && record["warmup_epochs"] == "2" && record["epochs"] == "1", "\(record)")
        #expect(try NextItemModel.load(from: path).configuration.dimension == configuration.dimension)
    }

    /// SQN's Q head learns the one-step return of the logged transitions: with γ = 0 and every
    /// reward 1 it predicts about 1 for the next item actually taken; the ranker still learns.
    @Test func theQHeadLearnsTheLoggedReturn() throws {
        var log = LoggedInteractions()
        var rng = RandomGenerator(seed: 5)
        for user in 0..<60 {
            var item = rng.nextIndex(below: 12)
            for t in 0..<12 {
                log.append(user: "u\(user)", item: "i\(item)", timestamp: Int64(t), event: .click)
                item = (item + 1) % 12
            }
        }
        let split = LeaveOneOutSplit(log)
        var configuration = Self.smallOneStepConfiguration()
        configuration.qLearningWeight = 1
        let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 3)
        #expect(model.store.parameters.contains { $0.name.hasPrefix("q.") })
        try model.train(on: split, seed: 4)
        #expect(model.evaluate(split, on: .test, k: 1).hitRate > 0.8)
        // Q of the taken next item at the last position of each user's training history.
        model.encoder.outputsEveryPosition = false
        var observation = [Float](), taken: [Int32] = []
        let width = model.encoder.configuration.observationDimension
        for user in 0..<split.users {
            guard let next = split.validation[user] else { continue }
            let rows = split.trainRows[user].suffix(configuration.historyLength)
            var row = [Float](repeating: 0, count: width)
            let padding = configuration.historyLength - rows.count
            for t in 0..<configuration.historyLength {
                let base = 1 + t * 5
                guard t >= padding else { row[base] = -1; continue }
                let r = rows[rows.startIndex + t - padding]
                row[base] = Float(split.sequences.items[r])
                row[base + 2] = Float(split.sequences.event(r).rawValue)
                row[base + 3] = split.sequences.values[r]
            }
            observation += row
            taken.append(next)
        }
        let q = model.qHead.forward(model.encoder.forward(Tensor(shape: Shape(taken.count, width), scalars: observation)))
        let mean = taken.enumerated().reduce(Float(0)) { $0 + q[$1.offset, Int($1.element)] } / Float(taken.count)
        #expect(abs(mean - 1) < 0.25, "mean Q of the taken item \(mean)")
    }

    /// The corrected REINFORCE moves the policy toward the better-rated of two logged
    /// continuations: from item i, users go on to i + 1 (rated 1) seven times in ten and to i + 2
    /// (rated 5) three times in ten. Cross-entropy alone learns about the logged 0.3 for i + 2;
    /// with REINFORCE beside it (γ = 0: the return is the rating) the policy gives i + 2 clearly
    /// more. The behaviour head trains with it, and a checkpoint keeps both.
    @Test func correctedReinforceFavoursTheBetterRatedContinuation() throws {
        var log = LoggedInteractions()
        var rng = RandomGenerator(seed: 6)
        for user in 0..<80 {
            var item = rng.nextIndex(below: 12)
            for t in 0..<14 {
                let jump = t > 0 && rng.uniform() < 0.3
                if t > 0 { item = (item + (jump ? 2 : 1)) % 12 }
                log.append(user: "u\(user)", item: "i\(item)", timestamp: Int64(t), event: .rating, value: jump ? 5 : 1)
            }
        }
        let split = LeaveOneOutSplit(log)
        var configuration = Self.smallOneStepConfiguration()
        let categories = [Int32](repeating: 0, count: log.itemCount)
        let supervised = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 7)
        configuration.reinforce = NextItemModel.CorrectedReinforce(weight: 1, slateSize: 1)
        let reinforced = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 7)
        #expect(reinforced.store.parameters.contains { $0.name.hasPrefix("behavior.") })
        #expect(!supervised.store.parameters.contains { $0.name.hasPrefix("behavior.") })
        let behaviorBefore = reinforced.behaviorHead.weight.value.clone()
        try supervised.train(on: split, seed: 8)
        try reinforced.train(on: split, seed: 8)
        #expect(reinforced.behaviorHead.weight.value != behaviorBefore)

        /// The mean over users of π(i + 2) / (π(i + 1) + π(i + 2)) after their training history.
        func shareOfTheJump(_ model: NextItemModel) -> Float {
            var total: Float = 0
            for rows in split.trainRows {
                let history = rows.map(split.sequences.userEvent)
                let last = Int(log.itemIds[Int(split.sequences.items[rows.last!])].dropFirst())!
                let step = log.itemIds.firstIndex(of: "i\((last + 1) % 12)")!, jump = log.itemIds.firstIndex(of: "i\((last + 2) % 12)")!
                let logits = model.score(history: history[...], context: [])
                total += 1 / (1 + exp(logits[0, step] - logits[0, jump]))
            }
            return total / Float(split.trainRows.count)
        }
        let logged = shareOfTheJump(supervised), corrected = shareOfTheJump(reinforced)
        #expect(abs(logged - 0.3) < 0.1, "cross-entropy alone: share \(logged)")
        #expect(corrected > logged + 0.15, "with REINFORCE: share \(corrected), cross-entropy alone \(logged)")

        let path = Scratch.path("reinforce.safetensors")
        try reinforced.save(to: path)
        let loaded = try NextItemModel.load(from: path)
        #expect(loaded.configuration.reinforce == configuration.reinforce)
        #expect(loaded.behaviorHead.weight.value == reinforced.behaviorHead.weight.value)
        try reinforced.save(to: path, servingOnly: true)
        #expect(try NextItemModel.load(from: path).configuration.reinforce == nil)
    }

    /// The novelty in the corrected REINFORCE's reward moves the policy toward rarer items: from
    /// cycle item cᵢ users go on to cᵢ₊₁ seven times in ten and to a side item sᵢ, seen only there
    /// and so rarer, three times in ten (then on to cᵢ₊₁); every rating is the same. With the
    /// ratings alone the policy stays near the logged 0.3 for sᵢ (0.38 after this short training);
    /// with the novelty reward (λ 10) it gives sᵢ clearly more (0.73). A checkpoint keeps the
    /// reward's weight.
    @Test func noveltyRewardFavoursTheRarerContinuation() throws {
        var log = LoggedInteractions()
        var rng = RandomGenerator(seed: 9)
        for user in 0..<80 {
            var cycle = rng.nextIndex(below: 12)
            for t in 0..<14 {
                log.append(user: "u\(user)", item: "c\(cycle)", timestamp: Int64(2 * t), event: .rating, value: 3)
                if rng.uniform() < 0.3 { log.append(user: "u\(user)", item: "s\(cycle)", timestamp: Int64(2 * t + 1), event: .rating, value: 3) }
                cycle = (cycle + 1) % 12
            }
        }
        let split = LeaveOneOutSplit(log)
        var configuration = Self.smallOneStepConfiguration()
        let categories = [Int32](repeating: 0, count: log.itemCount)
        configuration.reinforce = NextItemModel.CorrectedReinforce(weight: 1, slateSize: 1)
        let ratingsOnly = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 10)
        configuration.reinforce = NextItemModel.CorrectedReinforce(weight: 1, slateSize: 1, noveltyReward: 10)
        let novelty = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 10)
        try ratingsOnly.train(on: split, seed: 11)
        try novelty.train(on: split, seed: 11)

        /// The mean over users whose training history ends on a cycle item cᵢ of
        /// π(sᵢ) / (π(sᵢ) + π(cᵢ₊₁)).
        func shareOfTheSideItem(_ model: NextItemModel) -> Float {
            var total: Float = 0, users = 0
            for rows in split.trainRows {
                let lastId = log.itemIds[Int(split.sequences.items[rows.last!])]
                guard lastId.hasPrefix("c"), let i = Int(lastId.dropFirst()) else { continue }
                let history = rows.map(split.sequences.userEvent)
                let side = log.itemIds.firstIndex(of: "s\(i)")!, next = log.itemIds.firstIndex(of: "c\((i + 1) % 12)")!
                let logits = model.score(history: history[...], context: [])
                total += 1 / (1 + exp(logits[0, next] - logits[0, side]))
                users += 1
            }
            return total / Float(max(users, 1))
        }
        let logged = shareOfTheSideItem(ratingsOnly), rarer = shareOfTheSideItem(novelty)
        #expect(logged > 0.2 && logged < 0.45, "ratings alone: share \(logged)")
        #expect(rarer > logged + 0.2, "with the novelty reward: share \(rarer), ratings alone \(logged)")

        let path = Scratch.path("novelty.safetensors")
        try novelty.save(to: path)
        #expect(try NextItemModel.load(from: path).configuration.reinforce == configuration.reinforce)
        // A file from before the novelty reward loads with none; a negative one is refused.
        let (tensors, metadata) = try SafeTensors.read(from: path)
        let key = "drlrec.next_item.reinforce_novelty_reward"
        #expect(metadata[key] == "10.0")
        var older = metadata
        older[key] = nil
        try SafeTensors.write(tensors, metadata: older, to: path)
        #expect(try NextItemModel.load(from: path).configuration.reinforce?.noveltyReward == 0)
        var negative = metadata
        negative[key] = "-1"
        try SafeTensors.write(tensors, metadata: negative, to: path)
        #expect { _ = try NextItemModel.load(from: path) } throws: { "\($0)".contains("novelty reward -1.0 is negative") }
        // Sizes the tensors do not hold are refused before the model is built from them (2⁶² would
        // be an allocation the process cannot survive).
        for (name, value) in [("history_length", String(1 << 62)), ("dimension", "1000000")] {
            var huge = metadata
            huge["drlrec.next_item." + name] = value
            try SafeTensors.write(tensors, metadata: huge, to: path)
            #expect { _ = try NextItemModel.load(from: path) } throws: { "\($0)".contains("but the metadata (history length") }
        }
    }

    /// An RL agent started from a trained ranker scores every history as the ranker does, bit for
    /// bit, with its behaviour head as its own initialisation drew it; trained on from there, it
    /// moves away from the ranker.
    @Test func anAgentStartedFromARankerScoresAsTheRanker() throws {
        let log = SyntheticLog.generate(users: 60, items: 24, eventsPerUser: 12, jump: 0, seed: 4)
        let split = LeaveOneOutSplit(log)
        let categories = (0..<log.itemCount).map { Int32($0 % 3) }
        var configuration = Self.cycleConfiguration()
        configuration.epochs = 10
        let ranker = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 1)
        try ranker.train(on: split, seed: 2)
        configuration.reinforce = NextItemModel.CorrectedReinforce(weight: 0.5, noveltyReward: 5)
        configuration.epochs = 4
        let agent = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 7)
        let untouched = NextItemModel(log: log, categories: categories, configuration: configuration, seed: 7)
        agent.startFrom(ranker)
        let histories = split.trainRows.prefix(12).map { $0.map(split.sequences.userEvent) }
        func scores(_ model: NextItemModel) -> [[Float]] {
            histories.map { model.score(history: $0[...], context: [Float](repeating: 0.5, count: log.contextColumns.count)).scalars }
        }
        #expect(scores(agent) == scores(ranker))
        #expect(scores(untouched) != scores(ranker))
        #expect(agent.behaviorHead.weight.value.scalars == untouched.behaviorHead.weight.value.scalars)
        try agent.train(on: split, seed: 2)
        #expect(scores(agent) != scores(ranker))
        #expect(agent.validationCurve.map(\.epoch) == [4])
    }

    /// A log the next-item model cannot be trained and measured on is named, not trapped on.
    @Test func aLogTooSmallToTrainOnIsRefusedWithTheReason() throws {
        func split(_ rows: [(String, String)]) throws -> LeaveOneOutSplit {
            var text = "user,item,timestamp,event,value\n"
            for (k, row) in rows.enumerated() { text += "\(row.0),\(row.1),\(k),click,1\n" }
            let path = Scratch.path("small.csv")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return LeaveOneOutSplit(try LoggedInteractions.read(csv: path))
        }
        #expect(NextItemModel.dataProblem(try split([])) == "has 0 items; the next-item model is measured on its top 10, so it needs at least 10")
        #expect(NextItemModel.dataProblem(try split((0..<3).map { ("u\($0 % 2)", "i\($0)") }))?.hasPrefix("has 3 items") == true)
        #expect(NextItemModel.dataProblem(try split((0..<12).map { ("u\($0)", "i\($0)") }))?.hasPrefix("has no user with three interactions") == true)
        #expect(NextItemModel.dataProblem(try split((0..<12).map { ("u\($0 / 4)", "i\($0)") })) == nil)
    }
}
