import CDRLKernels

/// Elementwise nonlinearities with their derivatives, vectorised (AVX-512 / AVX2 / portable).
public enum Activation: String, Sendable, CaseIterable {
    case relu, gelu, tanh, sigmoid, softplus, exp, log

    /// y = f(x). `y` may be a different tensor of the same element count; for in place use
    /// `forwardInPlace`.
    public func forward(_ x: Tensor, into y: inout Tensor) {
        require(x.count == y.count, "\(self).forward: input \(x.shape) and output \(y.shape) differ in size")
        y.makeUnique()
        let px = x.basePointer, py = y.basePointer
        withExtendedLifetime(x) { run(px, py, count: x.count) }
    }

    /// x = f(x).
    public func forwardInPlace(_ x: inout Tensor) {
        x.makeUnique()
        let p = x.basePointer
        run(p, p, count: x.count)
    }

    /// f(x) as a new tensor.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = Tensor(zeros: x.shape)
        forward(x, into: &y)
        return y
    }

    /// dx = dy * f'(x), with x the forward input. `dx` may share storage with `dy` only if it is
    /// the same tensor passed in place (`backwardInPlace`).
    public func backward(input x: Tensor, gradOutput dy: Tensor, into dx: inout Tensor) {
        require(x.count == dy.count && dx.count == x.count,
                "\(self).backward: input \(x.shape), gradient \(dy.shape) and output \(dx.shape) differ in size")
        dx.makeUnique()
        let px = x.basePointer, pg = dy.basePointer, pd = dx.basePointer
        withExtendedLifetime((x, dy)) { runBackward(px, pg, pd, count: x.count) }
    }

    /// g = g * f'(x): turns the output gradient into the input gradient in place.
    public func backwardInPlace(input x: Tensor, gradient g: inout Tensor) {
        require(x.count == g.count, "\(self).backward: input \(x.shape) and gradient \(g.shape) differ in size")
        g.makeUnique()
        let px = x.basePointer, pg = g.basePointer
        withExtendedLifetime(x) { runBackward(px, pg, pg, count: x.count) }
    }

    /// f'(x) as a new tensor.
    public func derivative(at x: Tensor) -> Tensor {
        var d = Tensor(zeros: x.shape)
        backward(input: x, gradOutput: Tensor(shape: x.shape, repeating: 1), into: &d)
        return d
    }

    /// Cost of one element relative to a memory-bound loop: exp-class kernels are compute-bound.
    var workPerElement: Int { self == .relu ? 1 : 4 }

    func run(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.run(ActivationTask(activation: self, x: x, y: y), count: count, workPerItem: workPerElement)
    }

    func runBackward(_ x: UnsafeMutablePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
                     _ dx: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.run(ActivationBackwardTask(activation: self, x: x, dy: dy, dx: dx), count: count,
                     workPerItem: workPerElement)
    }
}

/// y = f(x) over a range of elements; y may be x.
struct ActivationTask: ParallelTask {
    let activation: Activation
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>

    func run(_ items: Range<Int>) {
        let n = items.count, xs = x + items.lowerBound, ys = y + items.lowerBound
        switch activation {
        case .relu: drl_relu(xs, ys, n)
        case .gelu: drl_gelu(xs, ys, n)
        case .tanh: drl_tanh(xs, ys, n)
        case .sigmoid: drl_sigmoid(xs, ys, n)
        case .softplus: drl_softplus(xs, ys, n)
        case .exp: drl_exp(xs, ys, n)
        case .log: drl_log(xs, ys, n)
        }
    }
}

/// dx = dy * f'(x) over a range of elements; dx may be dy.
struct ActivationBackwardTask: ParallelTask {
    let activation: Activation
    let x: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>

    func run(_ items: Range<Int>) {
        let n = items.count, o = items.lowerBound
        let xs = x + o, gs = dy + o, ds = dx + o
        switch activation {
        case .relu: drl_relu_backward(xs, gs, ds, n)
        case .gelu: drl_gelu_backward(xs, gs, ds, n)
        case .tanh: drl_tanh_backward(xs, gs, ds, n)
        case .sigmoid: drl_sigmoid_backward(xs, gs, ds, n)
        case .softplus: drl_softplus_backward(xs, gs, ds, n)
        case .exp: drl_exp_backward(xs, gs, ds, n)
        case .log: drl_log_backward(xs, gs, ds, n)
        }
    }
}
