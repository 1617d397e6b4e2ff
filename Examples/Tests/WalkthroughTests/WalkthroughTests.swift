import DRLTensor
import Foundation
import Testing
import Walkthrough

/// The examples do what they say, with their fixed seeds. Run with `-c release` (as `make test`
/// does): the last test checks what an optimised build prints when a programming error stops it.
@Suite struct WalkthroughTests {
    @Test func dqnWalksTheCorridor() throws {
        #expect(try trainDQN() > 0)   // walking straight right returns 0.3; wandering about, about −3
    }

    @Test func sacWalksTheCorridor() throws {
        #expect(try trainSAC() > 0)
    }

    @Test func aSavedModelLoadsWithItsOutputs() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("walkthrough-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (saved, loaded) = try saveAndLoadModel(at: path)
        #expect(saved == loaded)
    }

    /// The served model answers five distinct items from the production version, and the
    /// clicked item is not recommended again (the service left out what the user has seen).
    @Test func aRegisteredModelIsServedAndLearnsTheUsersClick() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("walkthrough-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (before, after, version) = try await serveANextItemModel(in: directory)
        #expect(before.count == 5 && Set(before).count == 5 && after.count == 5 && version == "v1")
        #expect(!after.contains(before[0]), "\(before) then \(after)")
    }

    @Test func bestSellersConvertBetterThanRandomSlates() {
        let conversion = ecommerceBaselines()
        #expect(conversion.popularity > conversion.random)
    }

    @Test func aShapeMismatchNamesBothShapesInThisBuild() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var c = Tensor(zeros: Shape(2, 2))
            matmul(Tensor(zeros: Shape(2, 3)), Tensor(zeros: Shape(4, 2)), into: &c)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("[2, 3]") && message.contains("[4, 2]"), "\(message)")
    }
}
