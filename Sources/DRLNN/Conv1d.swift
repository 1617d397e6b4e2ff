import DRLTensor

/// Temporal convolution over [batch, time, channels] (channels last) with stride 1, as
/// torch.nn.Conv1d on the transposed [batch, channels, time] input. Weight [out, in, kernel] as
/// in PyTorch. `.causal` padding pads (kernel − 1)·dilation steps on the left, so output step t
/// sees only inputs up to t and the length is kept; `.valid` pads nothing. Implemented as im2col
/// followed by one GEMM (and col2im for the input gradient).
public final class Conv1d: Layer {
    /// `causal` pads the start of the sequence so that each output reads only its own and earlier
    /// positions and the length is kept; `valid` does not pad, and the output is shorter.
    public enum Padding: Sendable { case causal, valid }

    public let inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int
    public let padding: Padding
    public let weight: Parameter, bias: Parameter?
    public var isTraining = true

    private var inputShape = Shape(0, 0, 0)
    private var columns = Buffer(), output = Buffer(), dColumns = Buffer(), dInput = Buffer()

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, dilation: Int = 1, padding: Padding = .causal,
                bias: Bool = true, using rng: inout RandomGenerator) {
        require(inChannels > 0 && outChannels > 0 && kernelSize > 0 && dilation > 0,
                "Conv1d(\(inChannels), \(outChannels), kernel \(kernelSize), dilation \(dilation)) needs positive sizes")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.padding = padding
        weight = Parameter("weight", shape: Shape(outChannels, inChannels, kernelSize))
        // PyTorch's default: U(±1/sqrt(in·kernel)) for weight and bias.
        let bound = Initializer.uniform(bound: 1 / Float(inChannels * kernelSize).squareRoot())
        bound.fill(&weight.value, fanIn: inChannels * kernelSize, fanOut: outChannels, using: &rng)
        if bias {
            let b = Parameter("bias", shape: Shape(outChannels))
            bound.fill(&b.value, fanIn: inChannels * kernelSize, fanOut: outChannels, using: &rng)
            self.bias = b
        } else {
            self.bias = nil
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    private var leftPad: Int { padding == .causal ? (kernelSize - 1) * dilation : 0 }

    private func outputLength(_ length: Int) -> Int { length + leftPad - (kernelSize - 1) * dilation }

    public func forward(_ x: Tensor) -> Tensor {
        require(x.rank == 3 && x.shape[2] == inChannels,
                "Conv1d(\(inChannels), \(outChannels)): input \(x.shape) must be [batch, time, \(inChannels)]")
        inputShape = x.shape
        let (b, t) = (x.shape[0], x.shape[1]), tOut = outputLength(t)
        require(tOut > 0, "Conv1d: input length \(t) is shorter than the receptive field \((kernelSize - 1) * dilation + 1)")
        var cols = columns.view(Shape(b * tOut, inChannels * kernelSize))
        im2col(x, into: &cols, batch: b, length: t, outputLength: tOut)
        var y = output.view(Shape(b, tOut, outChannels))
        let w = weight.value.reshaped(Shape(outChannels, inChannels * kernelSize))
        gemm(cols, w, into: &y, transposeB: true, bias: bias?.value)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (b, t) = (inputShape[0], inputShape[1]), tOut = outputLength(t)
        require(gradOutput.shape == Shape(b, tOut, outChannels),
                "Conv1d.backward: gradient \(gradOutput.shape) should be [\(b), \(tOut), \(outChannels)]")
        let cols = columns.view(Shape(b * tOut, inChannels * kernelSize))
        let w = weight.value.reshaped(Shape(outChannels, inChannels * kernelSize))
        if !weight.isFrozen {
            var dw = weight.gradient.reshaped(Shape(outChannels, inChannels * kernelSize))
            gemm(gradOutput, cols, into: &dw, transposeA: true, beta: 1, blocking: .smallCalls)
        }
        if let bias, !bias.isFrozen {
            var db = bias.gradient
            columnSums(gradOutput, into: &db, accumulate: true)
        }
        var dcols = dColumns.view(cols.shape)
        gemm(gradOutput, w, into: &dcols, blocking: .smallCalls)
        var dx = dInput.view(inputShape)
        col2im(dcols, into: &dx, batch: b, length: t, outputLength: tOut)
        return dx
    }

    /// columns[(b, t), c·k + j] = x[b, t + j·dilation − leftPad, c], or 0 outside the input.
    private func im2col(_ x: Tensor, into cols: inout Tensor, batch b: Int, length t: Int, outputLength tOut: Int) {
        let (cin, k, d, pad) = (inChannels, kernelSize, dilation, leftPad)
        x.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { pc in
                for bi in 0..<b {
                    for ti in 0..<tOut {
                        let row = pc.baseAddress! + (bi * tOut + ti) * cin * k
                        for j in 0..<k {
                            let source = ti + j * d - pad
                            for c in 0..<cin {
                                row[c * k + j] = source >= 0 && source < t ? px[(bi * t + source) * cin + c] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col: dx[b, s, c] = Σ over the columns that copied it.
    private func col2im(_ cols: Tensor, into dx: inout Tensor, batch b: Int, length t: Int, outputLength tOut: Int) {
        let (cin, k, d, pad) = (inChannels, kernelSize, dilation, leftPad)
        dx.fill(with: 0)
        cols.withUnsafeBufferPointer { pc in
            dx.withUnsafeMutableBufferPointer { px in
                for bi in 0..<b {
                    for ti in 0..<tOut {
                        let row = pc.baseAddress! + (bi * tOut + ti) * cin * k
                        for j in 0..<k {
                            let source = ti + j * d - pad
                            guard source >= 0 && source < t else { continue }
                            let target = px.baseAddress! + (bi * t + source) * cin
                            for c in 0..<cin { target[c] += row[c * k + j] }
                        }
                    }
                }
            }
        }
    }
}
