import DRLData
import Foundation
import ScratchFiles
import Testing

@Suite struct PublicDatasetTests {
    @Test func aMissingDatasetIsNotPresent() throws {
        let directory = Scratch.directory("empty")
        #expect(try PublicDataset.movielens.isPresent(in: directory) == false)
    }

    /// A file that is there with another digest than its publisher's is an error that names it,
    /// not a dataset silently used or silently fetched over.
    @Test func aFileWithAnotherDigestIsRefusedByName() throws {
        let directory = Scratch.directory("movielens")
        let dataset = PublicDataset.movielens
        for file in dataset.files { try Data("not the data\n".utf8).write(to: URL(fileURLWithPath: directory + "/" + file.path)) }
        try Data(dataset.files.map { "\(SHA256.hex(Array("not the data\n".utf8)))  \($0.path)\n" }.joined().utf8)
            .write(to: URL(fileURLWithPath: directory + "/" + PublicDataset.manifestName))
        #expect { try dataset.isPresent(in: directory) } throws: {
            "\($0)".hasPrefix("\(directory)/\(dataset.files[0].path) is there but its SHA-256 is") && "\($0)".contains(dataset.files[0].sha256!)
        }
    }

    @Test func theRegistryNamesItsDatasets() {
        #expect(PublicDataset.all.map(\.name) == ["movielens", "obd"])
        #expect(PublicDataset.named("obd")?.requirement == "obp==0.4.1")
        #expect(PublicDataset.named("netflix") == nil)
    }
}
