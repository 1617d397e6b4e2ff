import DRLTensor

/// The parameters of a single-layer recurrent cell in PyTorch's layout, with `gates` gate blocks
/// (GRU 3, LSTM 4): weight_ih_l0 [gates·H, I], weight_hh_l0 [gates·H, H], bias_ih_l0 and
/// bias_hh_l0 [gates·H], all initialised U(±1/sqrt(H)) as in PyTorch. It also does the part of
/// backpropagation through time that GRU and LSTM share.
struct RecurrentWeights {
    let inputSize: Int, hiddenSize: Int, gates: Int
    let weightIH: Parameter, weightHH: Parameter, biasIH: Parameter, biasHH: Parameter

    init(inputSize: Int, hiddenSize: Int, gates: Int, layer: String, using rng: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0, "\(layer)(\(inputSize), \(hiddenSize)) needs positive sizes")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.gates = gates
        weightIH = Parameter("weight_ih_l0", shape: Shape(gates * hiddenSize, inputSize))
        weightHH = Parameter("weight_hh_l0", shape: Shape(gates * hiddenSize, hiddenSize))
        biasIH = Parameter("bias_ih_l0", shape: Shape(gates * hiddenSize))
        biasHH = Parameter("bias_hh_l0", shape: Shape(gates * hiddenSize))
        let bound = Initializer.uniform(bound: 1 / Float(hiddenSize).squareRoot())
        for p in [weightIH, weightHH, biasIH, biasHH] { bound.fill(&p.value, fanIn: hiddenSize, fanOut: hiddenSize, using: &rng) }
    }

    /// The weights transposed, [I, gates·H] and [H, gates·H], refreshed by `transposeWeights`: the
    /// projections multiply by them untransposed, which OpenBLAS's small-matrix kernels do fastest.
    private(set) var transposedIH = Tensor(zeros: Shape(0, 0)), transposedHH = Tensor(zeros: Shape(0, 0))

    /// Copies the current weights into `transposedIH` and `transposedHH` (once per forward pass).
    mutating func transposeWeights() {
        if transposedIH.shape != Shape(inputSize, gates * hiddenSize) {
            transposedIH = Tensor(zeros: Shape(inputSize, gates * hiddenSize))
            transposedHH = Tensor(zeros: Shape(hiddenSize, gates * hiddenSize))
        }
        transpose(weightIH.value, into: &transposedIH)
        transpose(weightHH.value, into: &transposedHH)
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight_ih_l0", weightIH), ("weight_hh_l0", weightHH), ("bias_ih_l0", biasIH), ("bias_hh_l0", biasHH)]
    }

    /// One step of backpropagation through time, from the step's pre-activation gradients of the
    /// input projections `inputGates` [B, gates·H] and of the recurrent ones `recurrentGates`
    /// [B, gates·H] (one tensor twice where they are equal, as in the LSTM): accumulates the step's
    /// share of the four parameter gradients, with `previousStates` [B, H] the states the step read
    /// and `input` [B, T, I] the sequence, and writes inputGradient[:, step, :]. Done while the
    /// step's gradients are in cache; gathered over all steps into one product each, they would be
    /// B·T·gates·H floats written out to memory and read back.
    func accumulateStepGradients(inputGates dgx: Tensor, recurrentGates dgh: Tensor, previousStates: Tensor, input: Tensor,
                                 step: Int, inputGradient dx: inout Tensor) {
        if !weightHH.isFrozen {
            var dw = weightHH.gradient
            gemm(dgh, previousStates, into: &dw, transposeA: true, beta: 1, blocking: .smallRowsOrInner)
        }
        if !biasHH.isFrozen {
            var db = biasHH.gradient
            columnSums(dgh, into: &db, accumulate: true)
        }
        if !weightIH.isFrozen {
            var dw = weightIH.gradient
            accumulateTimeStepGradient(dgx, input, step: step, into: &dw)
        }
        if !biasIH.isFrozen {
            var db = biasIH.gradient
            columnSums(dgx, into: &db, accumulate: true)
        }
        projectIntoTimeStep(dgx, weightIH.value, into: &dx, step: step)
    }
}
