import DRLTensor

/// A single-layer GRU over [batch, time, input] sequences (batch first), returning every hidden
/// state [batch, time, hidden]; the initial state is zero. The equations and parameter layout are
/// PyTorch's (gates in the order r, z, n):
///   r = σ(Wᵢᵣx + bᵢᵣ + Wₕᵣh + bₕᵣ),  z = σ(Wᵢ_z x + bᵢ_z + Wₕ_z h + bₕ_z),
///   n = tanh(Wᵢₙx + bᵢₙ + r ⊙ (Wₕₙh + bₕₙ)),  h' = (1 − z) ⊙ n + z ⊙ h.
/// Each step projects its inputs and its state just before its gates use them; backpropagation
/// through time runs the steps in reverse and takes each step's share of the weight gradients and
/// dX while its gate gradients are in cache.
public final class GRU: Layer {
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
    private var inputGates = Buffer()      // [B, 3H]: x·Wᵢₕᵀ for the current step
    private var recurrentGates = Buffer()  // [B, 3H]: h·Wₕₕᵀ for the current step
    private var states = Buffer()          // [T + 1, B, H]: h₀ … h_T, time-major
    private var resetUpdate = Buffer()     // [T, B, 2H]: r | z
    private var candidate = Buffer()       // [T, B, H]: n
    private var recurrentCandidate = Buffer()  // [T, B, H]: Wₕₙh + bₕₙ
    private var output = Buffer()
    private var dInputGates = Buffer(), dRecurrentGates = Buffer(), dState = Buffer(), dInput = Buffer()

    public init(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) {
        weights = RecurrentWeights(inputSize: inputSize, hiddenSize: hiddenSize, gates: 3, layer: "GRU", using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { weights.namedParameters }

    public func forward(_ x: Tensor) -> Tensor {
        require(x.rank == 3 && x.shape[2] == inputSize,
                "GRU(\(inputSize), \(hiddenSize)): input \(x.shape) must be [batch, time, \(inputSize)]")
        input = x
        (batch, time) = (x.shape[0], x.shape[1])
        let (b, t, h) = (batch, time, hiddenSize)
        var gx = inputGates.view(Shape(b, 3 * h))
        weights.transposeWeights()
        let hs = states.view(Shape(t + 1, b, h))
        var first = hs[row: 0]
        first.fill(with: 0)
        var gh = recurrentGates.view(Shape(b, 3 * h))
        let rz = resetUpdate.view(Shape(t, b, 2 * h)), n = candidate.view(Shape(t, b, h))
        let ghn = recurrentCandidate.view(Shape(t, b, h))
        var y = output.view(Shape(b, t, h))
        for step in 0..<t {
            var rzStep = rz[row: step], nStep = n[row: step], ghnStep = ghn[row: step], next = hs[row: step + 1]
            gruForwardStep(x, step: step, transposedIH: weights.transposedIH, transposedHH: weights.transposedHH,
                           biasIH: biasIH.value, biasHH: biasHH.value, previous: hs[row: step], inputGates: &gx,
                           recurrentGates: &gh, resetUpdate: &rzStep, candidate: &nStep, recurrentCandidate: &ghnStep,
                           next: &next, output: &y)
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (b, t, h) = (batch, time, hiddenSize)
        require(gradOutput.shape == Shape(b, t, h), "GRU.backward: gradient \(gradOutput.shape) should be [\(b), \(t), \(h)]")
        var dgx = dInputGates.view(Shape(b, 3 * h)), dgh = dRecurrentGates.view(Shape(b, 3 * h))  // one step's
        var dhNext = dState.view(Shape(b, h))
        dhNext.fill(with: 0)
        let hs = states.view(Shape(t + 1, b, h)), rz = resetUpdate.view(Shape(t, b, 2 * h))
        let n = candidate.view(Shape(t, b, h)), ghn = recurrentCandidate.view(Shape(t, b, h))
        var dx = dInput.view(input.shape)
        for step in stride(from: t - 1, through: 0, by: -1) {
            gruBackwardStep(step: step, gradOutput: gradOutput, resetUpdate: rz[row: step], candidate: n[row: step],
                            recurrentCandidate: ghn[row: step], previous: hs[row: step], weightIH: weightIH.value,
                            weightHH: weightHH.value, stateGradient: &dhNext, inputGateGradient: &dgx,
                            recurrentGateGradient: &dgh, inputGradient: &dx)
            weights.accumulateStepGradients(inputGates: dgx, recurrentGates: dgh, previousStates: hs[row: step], input: input, step: step)
        }
        return dx
    }
}
