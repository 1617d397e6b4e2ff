import CDRLKernels
import DRLTensor
import Foundation
import Testing

/// Double-precision references, with the limits the kernels document at ±inf.
enum Reference {
    static let k0 = (2.0 / Double.pi).squareRoot(), k1 = 0.044715

    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
    static func softplus(_ x: Double) -> Double { Swift.max(x, 0) + log1p(exp(-Swift.abs(x))) }
    // GELU's tanh form written as x·sigmoid(2u): 0.5x(1 + tanh u) cancels to 0 in the left tail
    // even in Double.
    static func gelu(_ x: Double) -> Double {
        if x == -.infinity { return 0 }
        return x * sigmoid(2 * k0 * (x + k1 * x * x * x))
    }
    static func geluDerivative(_ x: Double) -> Double {
        if x.isInfinite { return x > 0 ? 1 : 0 }
        let u2 = 2 * k0 * (x + k1 * x * x * x)
        let s = sigmoid(u2), sNeg = sigmoid(-u2)
        return s + x * 2 * s * sNeg * k0 * (1 + 3 * k1 * x * x)
    }

    static func value(_ f: Activation, _ x: Double) -> Double {
        switch f {
        case .relu: return x.isNaN ? x : Swift.max(x, 0)
        case .gelu: return gelu(x)
        case .tanh: return tanh(x)
        case .sigmoid: return sigmoid(x)
        case .softplus: return softplus(x)
        case .exp: return exp(x)
        case .log: return log(x)
        }
    }

    static func derivative(_ f: Activation, _ x: Double) -> Double {
        switch f {
        case .relu: return x > 0 ? 1 : 0
        case .gelu: return geluDerivative(x)
        case .tanh: let c = cosh(x); return 1 / (c * c)
        case .sigmoid: return sigmoid(x) * sigmoid(-x)
        case .softplus: return sigmoid(x)
        case .exp: return exp(x)
        case .log: return 1 / x
        }
    }
}

/// Grid of ordinary and extreme inputs: large magnitudes, the edges of exp's range, values near
/// zero, denormals, infinities and NaN.
let extremeInputs: [Float] = {
    let magnitudes: [Float] = [0, Float.leastNormalMagnitude / 100, 1e-20, 1e-3, 0.1, 0.3, 0.62, 0.63, 0.7, 1, 1.5, 2, 3.7, 5, 9, 10, 19.9, 20.1, 30,
                               50, 87.3, 87.5, 88.5, 88.72, 88.8, 100, 103.9, 104.5, 200, 1e4, 1e30, .greatestFiniteMagnitude,
                               .infinity]
    var values = magnitudes.flatMap { [$0, -$0] }
    values.append(.nan)
    // Plus a dense sweep of the range where all the functions vary.
    for i in -400...400 { values.append(Float(i) * 0.0625) }
    return values
}()

func tolerance(_ f: Activation) -> (rel: Double, abs: Double) {
    switch f {
    case .relu: return (0, 0)
    case .exp: return (2e-6, 1e-44)
    case .log: return (2e-6, 2e-7)
    case .tanh, .sigmoid: return (2e-6, 1e-37)
    case .softplus: return (2e-6, 1e-44)
    // GELU's left tail is ill-conditioned: y ~ x·exp(-1.6 x - 0.07 x^3), so one rounding of x's
    // powers moves y by |d ln y / d ln x| ~ 50 ulps near x = -8.
    case .gelu: return (1e-5, 1e-37)
    }
}

@Suite(.serialized) struct ActivationTests {
    /// Every instruction-set variant this CPU can run: 0 portable, 1 AVX2, 2 AVX-512.
    static let isaLevels = [0, 1, 2]

    /// Runs `body` on this thread with the kernels of instruction set `level` (inputs here are small
    /// enough to stay on this thread).
    func withISA(_ level: Int, _ body: () -> Void) {
        _ = drl_kernel_force_isa(Int32(level))
        body()
        _ = drl_kernel_force_isa(-1)
    }

    @Test(arguments: isaLevels)
    func forwardMatchesScalarReferenceOnExtremeInputs(isa: Int) {
        withISA(isa) {
            for f in Activation.allCases {
                let inputs = extremeInputs.filter { f != .log || $0 >= 0 || $0.isNaN || $0 == -1 }
                let x = Tensor(shape: Shape(inputs.count), scalars: inputs)
                let y = f(x)
                var inPlace = x
                f.forwardInPlace(&inPlace)
                #expect(inPlace.scalars.elementsEqual(y.scalars) { $0 == $1 || ($0.isNaN && $1.isNaN) })
                let (rel, abs) = tolerance(f)
                for (i, v) in inputs.enumerated() {
                    let expected = Double(Float(Reference.value(f, Double(v))))
                    #expect(isClose(y[flat: i], expected, rel: rel, abs: abs),
                            "\(f)(\(v)) = \(y[flat: i]), expected \(expected) (isa \(isa))")
                }
            }
        }
    }

    @Test(arguments: isaLevels)
    func derivativesMatchScalarReference(isa: Int) {
        withISA(isa) {
            for f in Activation.allCases {
                let inputs = extremeInputs.filter { !$0.isNaN && (f != .log || $0 > 0) && !(f == .relu && $0 == 0) }
                let x = Tensor(shape: Shape(inputs.count), scalars: inputs)
                let dy = Tensor(shape: x.shape, generator: { Float(1 + $0 % 3) * 0.5 })
                var dx = Tensor(zeros: x.shape)
                f.backward(input: x, gradOutput: dy, into: &dx)
                var g = dy
                f.backwardInPlace(input: x, gradient: &g)
                #expect(g == dx)
                let (rel, abs) = tolerance(f)
                for (i, v) in inputs.enumerated() {
                    // The product is a float: where it overflows (exp near 88.7), inf is right.
                    let expected = Double(dy[flat: i] * Float(Reference.derivative(f, Double(v))))
                    #expect(isClose(dx[flat: i], expected, rel: rel * 2, abs: Swift.max(abs, 1e-7)),
                            "\(f)'(\(v)) · \(dy[flat: i]) = \(dx[flat: i]), expected \(expected) (isa \(isa))")
                }
            }
        }
    }

    @Test func derivativesAgreeWithFiniteDifferencesOfTheForwardKernels() {
        var rng = RandomGenerator(seed: 21)
        for f in Activation.allCases {
            let x = Tensor(shape: Shape(64), generator: { _ in
                let v = rng.uniform(-4, 4)
                return f == .log ? Swift.abs(v) + 0.5 : (Swift.abs(v) < 0.05 ? 0.5 : v)
            })
            let d = f.derivative(at: x)
            let h: Float = 1e-2
            let plus = f(x + h), minus = f(x + -h)
            for i in 0..<x.count {
                let numeric = (Double(plus[flat: i]) - Double(minus[flat: i])) / (2 * Double(h))
                #expect(Swift.abs(Double(d[flat: i]) - numeric) < 2e-3 * (1 + Swift.abs(numeric)),
                        "\(f)'(\(x[flat: i])): kernel \(d[flat: i]), finite difference \(numeric)")
            }
        }
    }

    @Test func lengthsThatAreNotMultiplesOfTheVectorWidthAreHandled() {
        for n in [0, 1, 3, 15, 16, 17, 31, 33, 100_003] {
            let x = randomTensor(Shape(n), seed: UInt64(n), low: -3, high: 3)
            let y = Activation.gelu(x)
            for i in Swift.stride(from: 0, to: n, by: Swift.max(1, n / 50)) {
                expectClose(y[flat: i], Reference.gelu(Double(x[flat: i])), rel: 5e-6, abs: 1e-7, "n = \(n)")
            }
            if n > 0 { expectClose(y[flat: n - 1], Reference.gelu(Double(x[flat: n - 1])), rel: 5e-6, abs: 1e-7) }
        }
    }
}
