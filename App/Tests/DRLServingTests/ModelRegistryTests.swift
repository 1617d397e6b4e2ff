import DRLNN
import DRLData
import DRLRanking
import Foundation
import Testing
@testable import DRLServing

@Suite struct ModelRegistryTests {
    func registryWithTwoVersions() throws -> ModelRegistry {
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory("registry"))
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d1",
                              hyperparameters: ["epochs": "30"], metrics: ["hr@10": 0.9])
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, parent: "v1", scenario: "cycle", dataHash: "d2")
        return registry
    }

    @Test func registersVersionsWithLineage() throws {
        let registry = try registryWithTwoVersions()
        let versions = try registry.versions()
        #expect(versions.map(\.id) == ["v1", "v2"])
        #expect(versions[0].metrics == ["hr@10": 0.9])
        #expect(versions[0].configurationHash == ModelRegistry.configurationHash(["epochs": "30"]))
        #expect(versions[0].checkpointHash == SHA256.hex(Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.cycleCheckpoint)))))
        #expect(try registry.lineage(of: "v2").map(\.id) == ["v2", "v1"])
        // A reopened registry reads the same records.
        #expect(try ModelRegistry(directory: registry.directory).versions() == versions)
        #expect(throws: RegistryError.self) { try registry.register(checkpoint: Fixtures.cycleCheckpoint, parent: "v9", scenario: "x", dataHash: "") }
        #expect(throws: RegistryError.self) { try registry.version("v3") }
    }

    @Test func promotesRollsBackAndRunsRollouts() throws {
        let registry = try registryWithTwoVersions()
        #expect(throws: RegistryError.self) { try registry.rollback() }
        #expect(throws: RegistryError.self) { try registry.startRollout("v2", share: 0.1) }  // no production yet
        try registry.promote("v1")
        try registry.startRollout("v2", share: 0.25)
        #expect(try registry.state().rollout == RegistryState.Rollout(candidate: "v2", share: 0.25))
        try registry.promote("v2")
        var state = try registry.state()
        #expect(state.production == "v2" && state.history == ["v1"] && state.rollout == nil)
        #expect(try registry.rollback() == "v1")
        state = try registry.state()
        #expect(state.production == "v1" && state.history.isEmpty)
        try registry.startRollout("v2", share: 0.5)
        try registry.stopRollout(reason: "guardrail")
        state = try registry.state()
        #expect(state.rollout == nil)
        #expect(state.events.map(\.action) == ["register", "register", "promote", "rollout", "promote", "rollback", "rollout", "stop-rollout"])
        #expect(state.events.last?.note == "guardrail")
    }

    /// A refused release leaves the state as it was and its reason in the audit trail.
    @Test func recordsRefusalsInTheAuditTrail() throws {
        let registry = try registryWithTwoVersions()
        try registry.promote("v1")
        let before = try registry.state()
        try registry.recordRefusal(of: "v2", action: "rollout", reason: "off-policy dr: the candidate's lower bound 2.1 is below production's estimate 4.0")
        let after = try registry.state()
        #expect(after.production == before.production && after.rollout == nil && after.history == before.history)
        #expect(after.events.count == before.events.count + 1)
        #expect(after.events.last?.action == "refuse-rollout" && after.events.last?.version == "v2" && after.events.last?.note?.contains("2.1") == true)
        #expect(throws: RegistryError.self) { try registry.recordRefusal(of: "v9", action: "promote", reason: "no such version") }
    }

    @Test func refusesACorruptedCheckpoint() throws {
        let registry = try registryWithTwoVersions()
        let path = try registry.checkpointPath(of: "v2")
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 200)
        try handle.write(contentsOf: Data([0xFF, 0xFE]))
        try handle.close()
        let error = #expect(throws: RegistryError.self) { try registry.promote("v2") }
        #expect(error?.description.contains("corrupted") == true)
        #expect(try registry.state().production == nil)
    }

    /// What a crash while registering leaves behind (a staging folder, a temporary state file) is
    /// invisible to readers and cleared by the next writer; the ids stay consecutive.
    /// A version record whose id was edited is refused by name (listing sorted by it and trapped),
    /// and a registered version records the kind of its checkpoint.
    @Test func anEditedRecordIsRefusedAndTheKindIsRecorded() throws {
        let registry = try registryWithTwoVersions()
        #expect(try registry.version("v1").kind == NextItemModel.checkpointKind)
        let path = registry.directory + "/versions/v2/version.json"
        var record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        record["id"] = "zzz"
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: path))
        #expect { try registry.versions() } throws: { "\($0)".contains("names version 'zzz', but it is the record of 'v2'") }
    }

    /// A version record edited to name a checkpoint outside its folder (with that file's true
    /// hash) is refused before the file is read; before, the registry read and hashed it.
    @Test func aCheckpointPathOutsideTheVersionIsRefused() throws {
        let registry = try registryWithTwoVersions()
        let outside = registry.directory + "/../outside-\(UUID().uuidString).txt"
        try Data("not the registry's".utf8).write(to: URL(fileURLWithPath: outside))
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let path = registry.directory + "/versions/v2/version.json"
        var record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        for name in ["../../../" + (outside as NSString).lastPathComponent, "..", "a/b"] {
            record["checkpoint"] = name
            record["checkpointHash"] = SHA256.hex(Array("not the registry's".utf8))
            try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: path))
            #expect { try registry.checkpointPath(of: "v2") } throws: { "\($0)".contains("is not a file name inside the version's folder") }
        }
        #expect(try registry.checkpointPath(of: "v1").hasPrefix(registry.directory + "/versions/v1/"))
    }

    @Test func crashRemnantsAreIgnored() throws {
        let registry = try registryWithTwoVersions()
        try registry.promote("v1")
        let staging = registry.directory + "/versions/.staging-v3-99999"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try Data("{\"half\":".utf8).write(to: URL(fileURLWithPath: staging + "/version.json"))
        try Data("{\"production\":".utf8).write(to: URL(fileURLWithPath: registry.directory + "/state.json.tmp-99999-1"))
        #expect(try registry.versions().map(\.id) == ["v1", "v2"])
        #expect(try registry.state().production == "v1")
        let third = try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d3")
        #expect(third.id == "v3")
        #expect(!FileManager.default.fileExists(atPath: staging))
        #expect(!FileManager.default.fileExists(atPath: registry.directory + "/state.json.tmp-99999-1"))
    }
}

@Suite struct TrafficSplitTests {
    /// Over 100,000 users the candidate's share is within 1 percentage point of the configured
    /// one, a user's arm never changes, and raising the share only moves users to the candidate.
    @Test(arguments: [0.01, 0.05, 0.1, 0.3, 0.5])
    func splitsWithinOnePoint(share: Double) {
        let split = TrafficSplit(candidateShare: share, salt: "v7")
        let wider = TrafficSplit(candidateShare: min(share * 2, 1), salt: "v7")
        var candidates = 0
        for user in 0..<100_000 {
            let id = "user-\(user)"
            let arm = split.arm(for: id)
            if arm == .candidate {
                candidates += 1
                #expect(wider.arm(for: id) == .candidate)
            }
        }
        #expect(abs(Double(candidates) / 100_000 - share) < 0.01, "\(candidates) candidates for share \(share)")
        #expect(split.arm(for: "user-42") == TrafficSplit(candidateShare: share, salt: "v7").arm(for: "user-42"))
    }

    @Test func rolloutsDrawIndependentUsers() {
        let a = TrafficSplit(candidateShare: 0.5, salt: "v2"), b = TrafficSplit(candidateShare: 0.5, salt: "v3")
        let both = (0..<20_000).filter { a.arm(for: "u\($0)") == .candidate && b.arm(for: "u\($0)") == .candidate }.count
        #expect(abs(Double(both) / 20_000 - 0.25) < 0.02)
    }
}

@Suite struct NextItemCheckpointTests {
    /// A saved model loads without its log and scores every history exactly as before, and a
    /// training log with another item order is refused.
    @Test func roundTripsWithoutTheLog() throws {
        let original = try Fixtures.cycleModel(epochs: 2)
        let path = Fixtures.scratchDirectory("checkpoint") + "/model.safetensors"
        try original.save(to: path)
        let loaded = try NextItemModel.load(from: path)
        #expect(loaded.itemIds == original.itemIds && loaded.contextColumns == ["stride"])
        #expect(loaded.itemCounts == original.itemCounts)
        let history = (0..<5).map { UserEvent(item: Int32($0 * 2), event: .click, value: 1, timestamp: Int64($0 * 3600)) }
        let before = original.score(history: history[...], context: [2]).scalars
        let after = loaded.score(history: history[...], context: [2]).scalars
        #expect(before == after)
        let empty = loaded.score(history: [], context: [1]).scalars
        #expect(empty.allSatisfy { $0.isFinite })

        var reordered = LoggedInteractions(contextColumns: ["stride"], items: original.itemIds.reversed())
        reordered.append(user: "u", item: "i1", timestamp: 0, event: .click, context: [1])
        #expect(throws: CheckpointError.self) { try NextItemModel.load(from: path, log: reordered) }
        var matching = LoggedInteractions(contextColumns: ["stride"], items: original.itemIds)
        matching.append(user: "u", item: "i1", timestamp: 0, event: .click, context: [1])
        let fineTunable = try NextItemModel.load(from: path, log: matching)
        #expect(fineTunable.itemCounts[Int(matching.itemIndex(of: "i1")!)] == original.itemCounts[Int(matching.itemIndex(of: "i1")!)] + 1)
    }

    /// Fine-tuning from a checkpoint with the encoder frozen changes the heads only: every
    /// encoder parameter, normaliser statistics included, is bit-identical afterwards.
    @Test func fineTunesWithFrozenModules() throws {
        let parent = try NextItemModel.load(from: Fixtures.cycleCheckpoint)
        let fresh = Fixtures.cycleLog(users: 120)
        var log = LoggedInteractions(contextColumns: ["stride"], items: parent.itemIds)
        for k in 0..<fresh.count {
            log.append(user: "new-" + fresh.userIds[Int(fresh.users[k])], item: fresh.itemIds[Int(fresh.items[k])], timestamp: fresh.timestamps[k],
                       event: fresh.events[k], context: [fresh.context[k] + 1])  // the context has drifted
        }
        let model = try NextItemModel.load(from: Fixtures.cycleCheckpoint, log: log, epochs: 2, learningRate: 1e-3)
        #expect(throws: UnknownParameterError.self) { try model.freeze(["decoder"]) }
        let frozen = try model.freeze(["encoder"])
        #expect(frozen.count == model.store.parameters.filter { $0.name.hasPrefix("encoder.") }.count)
        let before = model.store.parameters.map { ($0.name, $0.parameter.value.scalars) }
        try model.train(on: LeaveOneOutSplit(log), seed: 3)
        for ((name, old), (_, parameter)) in zip(before, model.store.parameters) {
            if name.hasPrefix("encoder.") {
                #expect(parameter.value.scalars == old, "\(name) changed")
            } else {
                #expect(parameter.value.scalars != old, "\(name) did not train")
            }
        }
    }
}
