import DRLTensor

/// Weight initialisation schemes. `fanIn` and `fanOut` are the input and output sizes of the
/// layer (for Linear: in and out features).
public enum Initializer: Sendable {
    case zeros
    case constant(Float)
    /// U(-b, b) with b = gain·sqrt(6 / (fanIn + fanOut)) (Glorot & Bengio).
    case xavierUniform(gain: Float = 1)
    /// N(0, gain²·2 / (fanIn + fanOut)).
    case xavierNormal(gain: Float = 1)
    /// U(-b, b) with b = gain·sqrt(3 / fanIn), gain = sqrt(2 / (1 + a²)) (He et al.). With
    /// a = sqrt(5) this is PyTorch's default for Linear weights: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    case kaimingUniform(a: Float = 0)
    /// N(0, gain² / fanIn), gain = sqrt(2 / (1 + a²)).
    case kaimingNormal(a: Float = 0)
    /// A (semi-)orthogonal matrix times `gain`, from the QR factorisation of a Gaussian matrix
    /// (Saxe et al.), as for RL policy and value heads.
    case orthogonal(gain: Float = 1)
    /// U(-bound, bound).
    case uniform(bound: Float)

    /// Fills `tensor`, seen as a [rows, cols] matrix (rows = fanOut for Linear weights).
    public func fill(_ tensor: inout Tensor, fanIn: Int, fanOut: Int, using rng: inout RandomGenerator) {
        let fi = Float(max(fanIn, 1)), fo = Float(max(fanOut, 1))
        switch self {
        case .zeros: tensor.fill(with: 0)
        case .constant(let v): tensor.fill(with: v)
        case .xavierUniform(let gain):
            let b = gain * (6 / (fi + fo)).squareRoot()
            rng.fillUniform(&tensor, -b, b)
        case .xavierNormal(let gain): rng.fillNormal(&tensor, std: gain * (2 / (fi + fo)).squareRoot())
        case .kaimingUniform(let a):
            let b = (2 / (1 + a * a)).squareRoot() * (3 / fi).squareRoot()
            rng.fillUniform(&tensor, -b, b)
        case .kaimingNormal(let a): rng.fillNormal(&tensor, std: (2 / (1 + a * a)).squareRoot() / fi.squareRoot())
        case .uniform(let bound): rng.fillUniform(&tensor, -bound, bound)
        case .orthogonal(let gain): fillOrthogonal(&tensor, gain: gain, using: &rng)
        }
    }

    private func fillOrthogonal(_ tensor: inout Tensor, gain: Float, using rng: inout RandomGenerator) {
        let (rows, cols) = tensor.shape.matrix
        // QR of a tall Gaussian matrix gives orthonormal columns; transpose when the target is wide.
        let tall = rows >= cols
        let gaussian = Tensor.normal(tall ? Shape(rows, cols) : Shape(cols, rows), using: &rng)
        guard var (q, r) = try? LinearAlgebra.qr(gaussian) else {
            requirementFailure("orthogonal initialisation: QR of a finite Gaussian matrix failed")
        }
        // Sign correction makes the distribution uniform over orthogonal matrices (Mezzadri 2007).
        let k = min(rows, cols)
        for j in 0..<k where r[j, j] < 0 {
            for i in 0..<q.shape[0] { q[i, j] = -q[i, j] }
        }
        r = Tensor(zeros: Shape(0))
        for i in 0..<rows {
            for j in 0..<cols { tensor[flat: i * cols + j] = gain * (tall ? q[i, j] : q[j, i]) }
        }
    }
}
