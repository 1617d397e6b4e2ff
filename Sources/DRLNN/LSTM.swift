import DRLTensor

/// A single-layer LSTM over [batch, time, input] sequences (batch first), returning every hidden
/// state [batch, time, hidden]; the initial hidden and cell states are zero. Equations and
/// parameter layout are PyTorch's (gates in the order i, f, g, o):
///   i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ,
///   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c').
/// The input projections of all steps are one GEMM; backpropagation through time takes each step's
/// share of the weight gradients and dX while its gate gradients are in cache, as in `GRU`.
public final class LSTM: Layer {
    public var inputSize: Int { weights.inputSize }
    public var hiddenSize: Int { weights.hiddenSize }
    public var weightIH: Parameter { weights.weightIH }
    public var weightHH: Parameter { weights.weightHH }
    public var biasIH: Parameter { weights.biasIH }
    public var biasHH: Parameter { weights.biasHH }
    public var isTraining = true
    private var weights: RecurrentWeights

    private var input = Tensor(zeros: Shape(0, 0, 0))
    private var batch = 0, time = 0
    private var inputGates = Buffer()   // [B·T, 4H] (rows in (b, t) order)
    private var gates = Buffer()        // [T, B, 4H]: activated i | f | g | o
    private var states = Buffer()       // [T + 1, B, H]: h₀ … h_T
    private var cells = Buffer()        // [T + 1, B, H]: c₀ … c_T
    private var cellTanh = Buffer()     // [T, B, H]: tanh(c_t)
    private var output = Buffer()
    private var dGates = Buffer(), dState = Buffer(), dCell = Buffer(), dInput = Buffer()

    public init(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) {
        weights = RecurrentWeights(inputSize: inputSize, hiddenSize: hiddenSize, gates: 4, layer: "LSTM", using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { weights.namedParameters }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == inputSize,
                     "LSTM(\(inputSize), \(hiddenSize)): input \(x.shape) must be [batch, time, \(inputSize)]")
        input = x
        (batch, time) = (x.shape[0], x.shape[1])
        let (b, t, h) = (batch, time, hiddenSize)
        var gx = inputGates.view(Shape(b * t, 4 * h))
        weights.transposeWeights()
        gemm(x, weights.transposedIH, into: &gx, blocking: .smallRowsOrInner)
        var hs = states.view(Shape(t + 1, b, h)), cs = cells.view(Shape(t + 1, b, h))
        hs[row: 0].fill(with: 0)
        cs[row: 0].fill(with: 0)
        let g = gates.view(Shape(t, b, 4 * h)), tc = cellTanh.view(Shape(t, b, h))
        let y = output.view(Shape(b, t, h))
        let bih = biasIH.value.workspaceBaseAddress
        let bhh = biasHH.value.workspaceBaseAddress
        let pgx = gx.workspaceBaseAddress
        let pg = g.workspaceBaseAddress
        let phs = hs.workspaceBaseAddress
        let pcs = cs.workspaceBaseAddress
        let ptc = tc.workspaceBaseAddress
        let py = y.workspaceBaseAddress
        for step in 0..<t {
            var stepGates = g[row: step]
            gemm(hs[row: step], weights.transposedHH, into: &stepGates, blocking: .smallRowsOrInner)
            let gStep = pg + step * b * 4 * h
            for bi in 0..<b {
                let row = gStep + bi * 4 * h, gxRow = pgx + (bi * t + step) * 4 * h
                for j in 0..<(4 * h) { row[j] += gxRow[j] + bih[j] + bhh[j] }
            }
            for bi in 0..<b {
                let row = gStep + bi * 4 * h
                // σ on i and f, tanh on g, σ on o.
                var ifView = stepGates[row: bi][rows: 0..<(2 * h)], gView = stepGates[row: bi][rows: (2 * h)..<(3 * h)]
                var oView = stepGates[row: bi][rows: (3 * h)..<(4 * h)]
                Activation.sigmoid.forwardInPlace(&ifView)
                Activation.tanh.forwardInPlace(&gView)
                Activation.sigmoid.forwardInPlace(&oView)
                let cPrev = pcs + (step * b + bi) * h, cNext = pcs + ((step + 1) * b + bi) * h
                for j in 0..<h { cNext[j] = row[h + j] * cPrev[j] + row[j] * row[2 * h + j] }
            }
            var tcView = tc[row: step]
            tcView.copy(from: cs[row: step + 1])
            Activation.tanh.forwardInPlace(&tcView)
            for bi in 0..<b {
                let row = gStep + bi * 4 * h, tcRow = ptc + (step * b + bi) * h
                let hNext = phs + ((step + 1) * b + bi) * h, yRow = py + (bi * t + step) * h
                for j in 0..<h {
                    let value = row[3 * h + j] * tcRow[j]
                    hNext[j] = value
                    yRow[j] = value
                }
            }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (b, t, h) = (batch, time, hiddenSize)
        precondition(gradOutput.shape == Shape(b, t, h), "LSTM.backward: gradient \(gradOutput.shape) should be [\(b), \(t), \(h)]")
        let dg = dGates.view(Shape(b, 4 * h))  // one step's
        var dx = dInput.view(input.shape)
        var dhNext = dState.view(Shape(b, h)), dcNext = dCell.view(Shape(b, h))
        dhNext.fill(with: 0)
        dcNext.fill(with: 0)
        let g = gates.view(Shape(t, b, 4 * h)), cs = cells.view(Shape(t + 1, b, h)), tc = cellTanh.view(Shape(t, b, h))
        let hs = states.view(Shape(t + 1, b, h))
        let pg = g.workspaceBaseAddress, pcs = cs.workspaceBaseAddress
        let ptc = tc.workspaceBaseAddress
        let pdg = dg.workspaceBaseAddress
        let pdh = dhNext.workspaceBaseAddress
        let pdc = dcNext.workspaceBaseAddress
        // The output gradient may be an ordinary tensor: read it within its buffer's scope.
        gradOutput.withUnsafeBufferPointer { dyBuffer in
            let pdy = dyBuffer.baseAddress!
            for step in stride(from: t - 1, through: 0, by: -1) {
                for bi in 0..<b {
                    let gate = pg + (step * b + bi) * 4 * h, tcRow = ptc + (step * b + bi) * h
                    let cPrev = pcs + (step * b + bi) * h, dyRow = pdy + (bi * t + step) * h
                    let dhRow = pdh + bi * h, dcRow = pdc + bi * h
                    let dgRow = pdg + bi * 4 * h
                    for j in 0..<h {
                        let i = gate[j], f = gate[h + j], gg = gate[2 * h + j], o = gate[3 * h + j], tcj = tcRow[j]
                        let dh = dyRow[j] + dhRow[j]
                        let dc = dcRow[j] + dh * o * (1 - tcj * tcj)
                        let di = dc * gg * i * (1 - i)
                        let df = dc * cPrev[j] * f * (1 - f)
                        let dgg = dc * i * (1 - gg * gg)
                        let dOut = dh * tcj * o * (1 - o)
                        dgRow[j] = di; dgRow[h + j] = df; dgRow[2 * h + j] = dgg; dgRow[3 * h + j] = dOut
                        dcRow[j] = dc * f
                    }
                }
                gemm(dg, weightHH.value, into: &dhNext, blocking: .smallRowsOrInner)
                weights.accumulateStepGradients(inputGates: dg, recurrentGates: dg, previousStates: hs[row: step], input: input, step: step)
                projectIntoTimeStep(dg, weightIH.value, into: &dx, step: step)
            }
        }
        return dx
    }
}
