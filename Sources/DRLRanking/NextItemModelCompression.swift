import DRLNN
import DRLTensor

/// How a matrix of a compressed model is stored.
public enum MatrixCompression: Equatable, Sendable {
    /// Its best rank-r approximation, stored as two factors: (m + n)·r numbers.
    case lowRank(rank: Int)
    /// The fraction `sparsity` of its entries, smallest in magnitude, set to zero; stored as the
    /// other entries' values and positions: 2 numbers per entry kept.
    case pruned(sparsity: Double)
}

/// Compression of a next-item model for serving.
extension NextItemModel {
    /// The numbers a serving checkpoint stores for the encoder and the ranking head (SQN's Q head
    /// only trains): a factorised matrix counts its factors, a pruned one its kept values and
    /// their positions.
    public var servingParameterCount: Int {
        store.parameters.filter { !$0.name.hasPrefix("q.") }.reduce(0) { total, entry in
            let value = entry.parameter.value
            switch compression[entry.name] {
            case nil: return total + value.count
            case .lowRank(let rank): return total + (value.shape.matrix.rows + value.shape.matrix.cols) * rank
            case .pruned: return total + 2 * value.scalars.filter { $0 != 0 }.count
            }
        }
    }

    /// The matrices compression reaches: the item embedding and the ranking head (unless the head
    /// is the embedding itself), which grow with the catalogue and hold most of the parameters.
    public var catalogueMatrices: [String] { configuration.tiedOutput ? ["encoder.item.weight"] : ["encoder.item.weight", "output.weight"] }

    /// Replaces the named matrix by its best rank-`rank` approximation (truncated SVD, through
    /// LAPACK); checkpoints then store it as two factors, (m + n)·r numbers instead of m·n.
    public func factorize(_ name: String, rank: Int) throws(UnknownParameterError) {
        let parameter = try matrix(name)
        let (m, n) = parameter.value.shape.matrix
        require(rank > 0 && rank <= min(m, n), "NextItemModel.factorize: rank \(rank) for a \(m)×\(n) matrix")
        let (u, v) = Self.factors(of: parameter.value, rank: rank)
        var w = parameter.value
        gemm(u, v, into: &w)
        compression[name] = .lowRank(rank: rank)
    }

    /// Magnitude pruning: sets the `sparsity` fraction of the named matrix's entries that are
    /// smallest in magnitude to zero (ties by position); checkpoints then store the others sparse.
    public func prune(_ name: String, sparsity: Double) throws(UnknownParameterError) {
        let parameter = try matrix(name)
        require(sparsity > 0 && sparsity < 1, "NextItemModel.prune: sparsity \(sparsity) is outside (0, 1)")
        require(parameter.value.count < 1 << 24, "NextItemModel.prune: positions are stored as exact floats, below 2^24")
        var w = parameter.value
        let values = w.scalars
        let order = values.indices.sorted { (abs(values[$0]), $0) < (abs(values[$1]), $1) }
        for i in order.prefix(Int((sparsity * Double(values.count)).rounded())) { w[flat: i] = 0 }
        compression[name] = .pruned(sparsity: sparsity)
    }

    /// Puts every compressed matrix back onto its form (after training moved it off).
    func reapplyCompression() {
        for (name, form) in compression {
            switch form {
            case .lowRank(let rank): try? factorize(name, rank: rank)
            case .pruned(let sparsity): try? prune(name, sparsity: sparsity)
            }
        }
    }

    private func matrix(_ name: String) throws(UnknownParameterError) -> Parameter {
        guard let parameter = store.parameters.first(where: { $0.name == name })?.parameter, parameter.value.rank == 2 else {
            throw UnknownParameterError(prefix: name, names: store.parameters.filter { $0.parameter.value.rank == 2 }.map(\.name))
        }
        return parameter
    }

    /// The tensors a compressed matrix is stored as, and its metadata entry.
    static func compressedTensors(_ name: String, _ w: Tensor, _ form: MatrixCompression) -> ([(name: String, tensor: Tensor)], String) {
        switch form {
        case .lowRank(let rank):
            // Re-projected onto rank r, in case it was trained after factorising.
            let (u, v) = factors(of: w, rank: rank)
            return ([(name + StoredMatrix.suffixes.u, u), (name + StoredMatrix.suffixes.v, v)], "\(name):low_rank:\(rank)")
        case .pruned:
            let values = w.scalars
            let kept = values.indices.filter { values[$0] != 0 }
            return ([(name + StoredMatrix.suffixes.values, Tensor(shape: Shape(kept.count), scalars: kept.map { values[$0] })),
                     (name + StoredMatrix.suffixes.positions, Tensor(shape: Shape(kept.count), scalars: kept.map(Float.init)))],
                    "\(name):sparse:\(kept.count)")
        }
    }

    /// The best rank-r factors of a matrix w [m, n] ≈ u [m, r] · v [r, n] (truncated SVD, the
    /// singular values folded into u).
    static func factors(of w: Tensor, rank: Int) -> (u: Tensor, v: Tensor) {
        let (m, n) = w.shape.matrix
        // The SVD cannot fail on a finite matrix; a non-finite one is stored as NaN factors.
        guard let (fullU, singular, vt) = try? LinearAlgebra.svd(w) else {
            return (Tensor(shape: Shape(m, rank), repeating: .nan), Tensor(shape: Shape(rank, n), repeating: .nan))
        }
        let k = singular.count
        let u = Tensor(shape: Shape(m, rank)) { i in fullU[flat: (i / rank) * k + i % rank] * singular[flat: i % rank] }
        let v = Tensor(shape: Shape(rank, n)) { i in vt[flat: i] }
        return (u, v)
    }
}

/// A compressed matrix being read from a checkpoint: its parts, and how to expand them into the
/// parameter.
struct StoredMatrix {
    static let suffixes = (u: ".low_rank_u", v: ".low_rank_v", values: ".sparse_values", positions: ".sparse_positions")

    struct Invalid: Error { let description: String }

    let name: String
    let form: MatrixCompression
    let parameter: Tensor
    let parts: [(name: String, tensor: Tensor)]

    /// Parses a metadata entry ("name:low_rank:r" or "name:sparse:nonzeros") against the model.
    init?(_ entry: String, in store: ParameterStore) {
        let fields = entry.split(separator: ":")
        guard fields.count == 3, let number = Int(fields[2]), number > 0,
              let parameter = store.parameters.first(where: { $0.name == fields[0] })?.parameter.value, parameter.rank == 2 else { return nil }
        name = String(fields[0])
        self.parameter = parameter
        let (m, n) = parameter.shape.matrix
        switch fields[1] {
        case "low_rank" where number <= min(m, n):
            form = .lowRank(rank: number)
            parts = [(name + Self.suffixes.u, Tensor(workspace: Shape(m, number))), (name + Self.suffixes.v, Tensor(workspace: Shape(number, n)))]
        case "sparse" where number <= m * n:
            form = .pruned(sparsity: 1 - Double(number) / Double(m * n))
            parts = [(name + Self.suffixes.values, Tensor(workspace: Shape(number))), (name + Self.suffixes.positions, Tensor(workspace: Shape(number)))]
        default:
            return nil
        }
    }

    /// Writes the expanded matrix into the parameter.
    func expand() throws(Invalid) {
        var w = parameter
        switch form {
        case .lowRank:
            gemm(parts[0].tensor, parts[1].tensor, into: &w)
        case .pruned:
            w.fill(with: 0)
            let (values, positions) = (parts[0].tensor, parts[1].tensor)
            for k in 0..<values.count {
                let position = positions[flat: k]
                guard position >= 0, position < Float(w.count), position == position.rounded() else {
                    throw Invalid(description: "tensor '\(name)\(Self.suffixes.positions)' holds \(position) at \(k), not a position in the \(w.shape) matrix")
                }
                w[flat: Int(position)] = values[flat: k]
            }
        }
    }
}
