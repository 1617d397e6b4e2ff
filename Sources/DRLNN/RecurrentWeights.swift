import DRLTensor

/// The parameters of a single-layer recurrent cell in PyTorch's layout, with `gates` gate blocks
/// (GRU 3, LSTM 4): weight_ih_l0 [gates·H, I], weight_hh_l0 [gates·H, H], bias_ih_l0 and
/// bias_hh_l0 [gates·H], all initialised U(±1/sqrt(H)) as in PyTorch. It also does the part of
/// backpropagation through time that GRU and LSTM share.
struct RecurrentWeights {
    let inputSize: Int, hiddenSize: Int, gates: Int
    let weightIH: Parameter, weightHH: Parameter, biasIH: Parameter, biasHH: Parameter

    init(inputSize: Int, hiddenSize: Int, gates: Int, layer: String, using rng: inout RandomGenerator) {
        require(inputSize > 0 && hiddenSize > 0, "\(layer)(\(inputSize), \(hiddenSize)) needs positive sizes")
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

    /// One step's share of the four parameter gradients in backpropagation through time, from the
    /// step's pre-activation gradients of the input projections `inputGates` [B, gates·H] and of
    /// the recurrent ones `recurrentGates` [B, gates·H] (one tensor twice where they are equal, as
    /// in the LSTM), the states the step read `previousStates` [B, H] and the sequence `input`
    /// [B, T, I]. Frozen parameters get nothing.
    func accumulateStepGradients(inputGates dgx: Tensor, recurrentGates dgh: Tensor, previousStates: Tensor, input: Tensor, step: Int) {
        func unlessFrozen(_ p: Parameter) -> Tensor? { p.isFrozen ? nil : p.gradient }
        accumulateRecurrentStepGradients(inputGates: dgx, recurrentGates: dgh, input: input, step: step, previous: previousStates,
                                         weightIH: unlessFrozen(weightIH), biasIH: unlessFrozen(biasIH),
                                         weightHH: unlessFrozen(weightHH), biasHH: unlessFrozen(biasHH))
    }
}
