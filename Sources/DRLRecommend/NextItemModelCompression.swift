import DRLNN
import DRLTensor

/// Compression of a next-item model for serving.
extension NextItemModel {
    /// The parameters serving reads (the encoder and the ranking head; SQN's Q head only trains),
    /// counting a factorised matrix by its factors.
    public var servingParameterCount: Int {
        store.parameters.filter { !$0.name.hasPrefix("q.") }.reduce(0) { total, entry in
            guard let rank = lowRank[entry.name] else { return total + entry.parameter.value.count }
            let (m, n) = entry.parameter.value.shape.matrix
            return total + (m + n) * rank
        }
    }

    /// The matrices that low-rank factorisation can reach: the item embedding and the ranking
    /// head, which grow with the catalogue and hold most of the parameters.
    public static let catalogueMatrices = ["encoder.item.weight", "output.weight"]

    /// Replaces the named matrix by its best rank-`rank` approximation (truncated SVD, through
    /// LAPACK); checkpoints then store it as two factors, (m + n)·r numbers instead of m·n.
    public func factorize(_ name: String, rank: Int) throws(UnknownParameterError) {
        guard let parameter = store.parameters.first(where: { $0.name == name })?.parameter, parameter.value.rank == 2 else {
            throw UnknownParameterError(prefix: name, names: store.parameters.filter { $0.parameter.value.rank == 2 }.map(\.name))
        }
        let (m, n) = parameter.value.shape.matrix
        precondition(rank > 0 && rank <= min(m, n), "NextItemModel.factorize: rank \(rank) for a \(m)×\(n) matrix")
        let (u, v) = Self.factors(of: parameter.value, rank: rank)
        var w = parameter.value
        gemm(u, v, into: &w)
        lowRank[name] = rank
    }
}
