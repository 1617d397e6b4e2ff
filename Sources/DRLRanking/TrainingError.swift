import DRLDistributed
import DRLNN
import DRLTensor

/// Why `NextItemModel.train` stopped.
public enum TrainingError: Error, CustomStringConvertible {
    /// A gradient (or a parameter) was not finite: nothing was trained on it.
    case nonFinite(NonFiniteError)
    /// A collective operation of data-parallel training failed.
    case collective(ProcessGroupError)
    /// After `epoch`, the ranks' parameters were no longer identical: the hashes of their values
    /// ranged over `hashes`.
    case diverged(epoch: Int, hashes: ClosedRange<UInt64>)

    public var description: String {
        switch self {
        case .nonFinite(let error): "\(error)"
        case .collective(let error): "data-parallel training: \(error)"
        case .diverged(let epoch, let hashes):
            "data-parallel training: after epoch \(epoch) the ranks' parameters differ (hashes from "
                + "\(String(hashes.lowerBound, radix: 16)) to \(String(hashes.upperBound, radix: 16))); every rank must run the same "
                + "command on the same data with the same thread count"
        }
    }
}

/// The collectives of data-parallel training, their failures as `TrainingError`.
extension ProcessGroup {
    /// Every element summed over the ranks, in place.
    func sum(_ tensor: inout Tensor) throws(TrainingError) {
        do {
            try tensor.withUnsafeMutableBufferPointer { try allReduceSum($0) }
        } catch {
            throw .collective(error as? ProcessGroupError ?? ProcessGroupError("\(error)"))
        }
    }

    func sum(_ values: inout [Double]) throws(TrainingError) {
        do {
            try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
        } catch {
            throw .collective(error as? ProcessGroupError ?? ProcessGroupError("\(error)"))
        }
    }

    func range(_ value: UInt64) throws(TrainingError) -> ClosedRange<UInt64> {
        do { return try allReduceRange(value) } catch { throw .collective(error) }
    }
}
