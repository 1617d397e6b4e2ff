import DRLTensor

/// A single-layer GRU over [batch, time, input] sequences (batch first), returning every hidden
/// state [batch, time, hidden]; the initial state is zero. The equations and parameter layout are
/// PyTorch's (gates in the order r, z, n):
///   r = σ(Wᵢᵣx + bᵢᵣ + Wₕᵣh + bₕᵣ),  z = σ(Wᵢ_z x + bᵢ_z + Wₕ_z h + bₕ_z),
///   n = tanh(Wᵢₙx + bᵢₙ + r ⊙ (Wₕₙh + bₕₙ)),  h' = (1 − z) ⊙ n + z ⊙ h.
/// The input projections of all time steps are one GEMM; backpropagation through time runs the
/// steps in reverse and gathers the recurrent weight gradient into one GEMM at the end.
public final class GRU: Layer {
    public let inputSize: Int, hiddenSize: Int
    public let weightIH: Parameter, weightHH: Parameter, biasIH: Parameter, biasHH: Parameter
    public var isTraining = true

    private var input = Tensor(zeros: Shape(0, 0, 0))
    private var batch = 0, time = 0
    private var inputGates = Buffer()      // [B·T, 3H]: X·Wᵢₕᵀ (rows in (b, t) order)
    private var recurrentGates = Buffer()  // [B, 3H]: h·Wₕₕᵀ for the current step
    private var states = Buffer()          // [T + 1, B, H]: h₀ … h_T, time-major
    private var resetUpdate = Buffer()     // [T, B, 2H]: r | z
    private var candidate = Buffer()       // [T, B, H]: n
    private var recurrentCandidate = Buffer()  // [T, B, H]: Wₕₙh + bₕₙ
    private var output = Buffer()
    private var dInputGates = Buffer(), dRecurrentGates = Buffer(), dState = Buffer(), dInput = Buffer()

    public init(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0, "GRU(\(inputSize), \(hiddenSize)) needs positive sizes")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        weightIH = Parameter("weight_ih_l0", shape: Shape(3 * hiddenSize, inputSize))
        weightHH = Parameter("weight_hh_l0", shape: Shape(3 * hiddenSize, hiddenSize))
        biasIH = Parameter("bias_ih_l0", shape: Shape(3 * hiddenSize))
        biasHH = Parameter("bias_hh_l0", shape: Shape(3 * hiddenSize))
        // PyTorch's initialisation: every parameter U(±1/sqrt(hidden)).
        let bound = Initializer.uniform(bound: 1 / Float(hiddenSize).squareRoot())
        for p in [weightIH, weightHH, biasIH, biasHH] { bound.fill(&p.value, fanIn: hiddenSize, fanOut: hiddenSize, using: &rng) }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight_ih_l0", weightIH), ("weight_hh_l0", weightHH), ("bias_ih_l0", biasIH), ("bias_hh_l0", biasHH)]
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == inputSize,
                     "GRU(\(inputSize), \(hiddenSize)): input \(x.shape) must be [batch, time, \(inputSize)]")
        input = x
        (batch, time) = (x.shape[0], x.shape[1])
        let (b, t, h) = (batch, time, hiddenSize)
        var gx = inputGates.view(Shape(b * t, 3 * h))
        gemm(x, weightIH.value, into: &gx, transposeB: true)
        var hs = states.view(Shape(t + 1, b, h))
        hs[row: 0].fill(with: 0)
        var gh = recurrentGates.view(Shape(b, 3 * h))
        var rz = resetUpdate.view(Shape(t, b, 2 * h)), n = candidate.view(Shape(t, b, h))
        var ghn = recurrentCandidate.view(Shape(t, b, h))
        var y = output.view(Shape(b, t, h))
        let bih = biasIH.value.withUnsafeBufferPointer { $0.baseAddress! }
        let bhh = biasHH.value.withUnsafeBufferPointer { $0.baseAddress! }
        let pgx = gx.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let phs = hs.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let pgh = gh.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let prz = rz.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let pn = n.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let pghn = ghn.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let py = y.withUnsafeMutableBufferPointer { $0.baseAddress! }
        for step in 0..<t {
            gemm(hs[row: step], weightHH.value, into: &gh, transposeB: true)
            let rzStep = prz + step * b * 2 * h, nStep = pn + step * b * h, ghnStep = pghn + step * b * h
            for bi in 0..<b {
                let gxRow = pgx + (bi * t + step) * 3 * h, ghRow = pgh + bi * 3 * h
                let rzRow = rzStep + bi * 2 * h
                for j in 0..<(2 * h) { rzRow[j] = gxRow[j] + bih[j] + ghRow[j] + bhh[j] }
            }
            var rzView = rz[row: step]
            Activation.sigmoid.forwardInPlace(&rzView)
            for bi in 0..<b {
                let gxRow = pgx + (bi * t + step) * 3 * h, ghRow = pgh + bi * 3 * h
                let r = rzStep + bi * 2 * h, nRow = nStep + bi * h, ghnRow = ghnStep + bi * h
                for j in 0..<h {
                    ghnRow[j] = ghRow[2 * h + j] + bhh[2 * h + j]
                    nRow[j] = gxRow[2 * h + j] + bih[2 * h + j] + r[j] * ghnRow[j]
                }
            }
            var nView = n[row: step]
            Activation.tanh.forwardInPlace(&nView)
            let previous = phs + step * b * h, next = phs + (step + 1) * b * h
            for bi in 0..<b {
                let z = rzStep + bi * 2 * h + h, nRow = nStep + bi * h
                let prevRow = previous + bi * h, nextRow = next + bi * h, yRow = py + (bi * t + step) * h
                for j in 0..<h {
                    let value = (1 - z[j]) * nRow[j] + z[j] * prevRow[j]
                    nextRow[j] = value
                    yRow[j] = value
                }
            }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (b, t, h) = (batch, time, hiddenSize)
        precondition(gradOutput.shape == Shape(b, t, h), "GRU.backward: gradient \(gradOutput.shape) should be [\(b), \(t), \(h)]")
        var dgx = dInputGates.view(Shape(b * t, 3 * h))
        var dgh = dRecurrentGates.view(Shape(t, b, 3 * h))
        var dhNext = dState.view(Shape(b, h))
        dhNext.fill(with: 0)
        let hs = states.view(Shape(t + 1, b, h)), rz = resetUpdate.view(Shape(t, b, 2 * h))
        let n = candidate.view(Shape(t, b, h)), ghn = recurrentCandidate.view(Shape(t, b, h))
        let phs = hs.withUnsafeBufferPointer { $0.baseAddress! }, prz = rz.withUnsafeBufferPointer { $0.baseAddress! }
        let pn = n.withUnsafeBufferPointer { $0.baseAddress! }, pghn = ghn.withUnsafeBufferPointer { $0.baseAddress! }
        let pdy = gradOutput.withUnsafeBufferPointer { $0.baseAddress! }
        let pdgx = dgx.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let pdgh = dgh.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let pdh = dhNext.withUnsafeMutableBufferPointer { $0.baseAddress! }
        for step in stride(from: t - 1, through: 0, by: -1) {
            for bi in 0..<b {
                let r = prz + (step * b + bi) * 2 * h, z = r + h
                let nRow = pn + (step * b + bi) * h, ghnRow = pghn + (step * b + bi) * h
                let prevRow = phs + (step * b + bi) * h, dyRow = pdy + (bi * t + step) * h
                let dhRow = pdh + bi * h
                let dgxRow = pdgx + (bi * t + step) * 3 * h, dghRow = pdgh + (step * b + bi) * 3 * h
                for j in 0..<h {
                    let dh = dyRow[j] + dhRow[j]
                    let dnPre = dh * (1 - z[j]) * (1 - nRow[j] * nRow[j])
                    let dzPre = dh * (prevRow[j] - nRow[j]) * z[j] * (1 - z[j])
                    let drPre = dnPre * ghnRow[j] * r[j] * (1 - r[j])
                    dgxRow[j] = drPre
                    dgxRow[h + j] = dzPre
                    dgxRow[2 * h + j] = dnPre
                    dghRow[j] = drPre
                    dghRow[h + j] = dzPre
                    dghRow[2 * h + j] = dnPre * r[j]
                    dhRow[j] = dh * z[j]
                }
            }
            gemm(dgh[row: step], weightHH.value, into: &dhNext, beta: 1)
        }
        let dghAll = dgh.reshaped(Shape(t * b, 3 * h))
        if !weightHH.isFrozen {
            var dw = weightHH.gradient
            gemm(dghAll, hs[rows: 0..<t].reshaped(Shape(t * b, h)), into: &dw, transposeA: true, beta: 1)
        }
        if !biasHH.isFrozen {
            var db = biasHH.gradient
            columnSums(dghAll, into: &db, accumulate: true)
        }
        if !weightIH.isFrozen {
            var dw = weightIH.gradient
            gemm(dgx, input.reshaped(Shape(b * t, inputSize)), into: &dw, transposeA: true, beta: 1)
        }
        if !biasIH.isFrozen {
            var db = biasIH.gradient
            columnSums(dgx, into: &db, accumulate: true)
        }
        var dx = dInput.view(input.shape)
        gemm(dgx, weightIH.value, into: &dx)
        return dx
    }
}
