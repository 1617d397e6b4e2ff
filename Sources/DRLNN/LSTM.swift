import DRLTensor

/// A single-layer LSTM over [batch, time, input] sequences (batch first), returning every hidden
/// state [batch, time, hidden]; the initial hidden and cell states are zero. Equations and
/// parameter layout are PyTorch's (gates in the order i, f, g, o):
///   i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ,
///   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c').
/// As in `GRU`, each time step is one parallel job over the batch's rows (both projections, then
/// a fused kernel for the gates and the cell), and backpropagation through time takes each step's
/// share of the weight gradients and dX while its gate gradients are in cache.
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
    private var inputGates = Buffer()   // [B, 4H]: one step's input projections
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
        require(x.rank == 3 && x.shape[2] == inputSize,
                "LSTM(\(inputSize), \(hiddenSize)): input \(x.shape) must be [batch, time, \(inputSize)]")
        input = x
        (batch, time) = (x.shape[0], x.shape[1])
        let (b, t, h) = (batch, time, hiddenSize)
        var gx = inputGates.view(Shape(b, 4 * h))
        weights.transposeWeights()
        let hs = states.view(Shape(t + 1, b, h)), cs = cells.view(Shape(t + 1, b, h))
        var h0 = hs[row: 0], c0 = cs[row: 0]
        h0.fill(with: 0)
        c0.fill(with: 0)
        let g = gates.view(Shape(t, b, 4 * h)), tc = cellTanh.view(Shape(t, b, h))
        var y = output.view(Shape(b, t, h))
        for step in 0..<t {
            var stepGates = g[row: step], cell = cs[row: step + 1], stepTanh = tc[row: step], next = hs[row: step + 1]
            lstmForwardStep(x, step: step, transposedIH: weights.transposedIH, transposedHH: weights.transposedHH,
                            biasIH: biasIH.value, biasHH: biasHH.value, previous: hs[row: step], previousCell: cs[row: step],
                            inputGates: &gx, gates: &stepGates, cell: &cell, cellTanh: &stepTanh, next: &next, output: &y)
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (b, t, h) = (batch, time, hiddenSize)
        require(gradOutput.shape == Shape(b, t, h), "LSTM.backward: gradient \(gradOutput.shape) should be [\(b), \(t), \(h)]")
        var dg = dGates.view(Shape(b, 4 * h))  // one step's
        var dx = dInput.view(input.shape)
        var dhNext = dState.view(Shape(b, h)), dcNext = dCell.view(Shape(b, h))
        dhNext.fill(with: 0)
        dcNext.fill(with: 0)
        let g = gates.view(Shape(t, b, 4 * h)), cs = cells.view(Shape(t + 1, b, h)), tc = cellTanh.view(Shape(t, b, h))
        let hs = states.view(Shape(t + 1, b, h))
        for step in stride(from: t - 1, through: 0, by: -1) {
            lstmBackwardStep(step: step, gradOutput: gradOutput, gates: g[row: step], cellTanh: tc[row: step],
                             previousCell: cs[row: step], weightIH: weightIH.value, weightHH: weightHH.value,
                             stateGradient: &dhNext, cellGradient: &dcNext, gateGradient: &dg, inputGradient: &dx)
            weights.accumulateStepGradients(inputGates: dg, recurrentGates: dg, previousStates: hs[row: step], input: input, step: step)
        }
        return dx
    }
}
