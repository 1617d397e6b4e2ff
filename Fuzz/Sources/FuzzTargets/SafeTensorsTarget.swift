import DRLNN
import DRLScenarios
import DRLServing
import DRLTensor

/// A checkpoint file. What the reader accepts is written back and must read back bit for bit; a
/// file that a servable model kind loads must score a user with one score per item (the registry
/// and the server load whatever file a version names, and a restarting server must not die on it).
enum SafeTensorsTarget {
    static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let path = FuzzScratch.file("checkpoint.safetensors", input)
        _ = try? SafeTensors.describe(path)
        if let (tensors, metadata) = try? SafeTensors.read(from: path) {
            let copy = FuzzScratch.directory + "/copy.safetensors"
            do {
                try SafeTensors.write(tensors, metadata: metadata, to: copy)
                let (again, metadataAgain) = try SafeTensors.read(from: copy)
                guard metadataAgain == metadata, again.map(\.name) == tensors.map(\.name) else {
                    throw FuzzFailure("the checkpoint written back has other names or metadata")
                }
                for ((name, a), (_, b)) in zip(tensors, again) where a.shape != b.shape || bits(a) != bits(b) {
                    throw FuzzFailure("tensor '\(name)' does not read back bit for bit")
                }
            } catch let failure as FuzzFailure {
                throw failure
            } catch {
                throw FuzzFailure("a checkpoint the reader accepted cannot be written back and read: \(error)")
            }
        }
        guard let model = try? ServableModelKinds.drlrec.load(checkpoint: path) else { return false }
        let scores = model.scores(history: [], context: [Float](repeating: 0, count: model.contextColumns.count))
        guard scores.count == model.itemIds.count else {
            throw FuzzFailure("a loaded \(type(of: model).checkpointKind) gives \(scores.count) scores for \(model.itemIds.count) items")
        }
        return true
    }

    private static func bits(_ tensor: Tensor) -> [UInt32] {
        tensor.withUnsafeBufferPointer { $0.map(\.bitPattern) }
    }
}
