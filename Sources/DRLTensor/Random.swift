#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded, reproducible pseudo-random generator (xoshiro256**, seeded through SplitMix64).
/// The same seed gives the same stream on every platform and run.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// Second normal deviate of the last Box–Muller pair.
    @usableFromInline var spareNormal: Float?

    /// A generator for `seed`; different `stream`s of one seed are independent sequences.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var x = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
        spareNormal = nil
    }

    /// The full state as text ("s0,s1,s2,s3,spare" in hexadecimal; spare is the pending normal
    /// deviate's bit pattern or "-"), for checkpoints that resume a run exactly.
    public var stateDescription: String {
        ([s0, s1, s2, s3].map { String($0, radix: 16) } + [spareNormal.map { String($0.bitPattern, radix: 16) } ?? "-"])
            .joined(separator: ",")
    }

    /// Restores a generator from `stateDescription`; nil if the text is not one.
    public init?(stateDescription text: String) {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 5 else { return nil }
        let words = fields[0..<4].compactMap { UInt64($0, radix: 16) }
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
        if fields[4] == "-" {
            spareNormal = nil
        } else {
            guard let bits = UInt32(fields[4], radix: 16) else { return nil }
            spareNormal = Float(bitPattern: bits)
        }
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1), with 24 random bits.
    @inlinable
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    @inlinable
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Uniform integer in 0..<n, without modulo bias.
    @inlinable
    public mutating func nextIndex(below n: Int) -> Int {
        require(n > 0, "nextIndex(below:) needs a positive bound, got \(n)")
        return Int(next(upperBound: UInt64(n)))
    }

    /// Standard normal (Box–Muller), scaled to the given mean and standard deviation.
    public mutating func normal(mean: Float = 0, std: Float = 1) -> Float {
        if let z = spareNormal {
            spareNormal = nil
            return mean + std * z
        }
        // u1 in (0, 1] keeps the log finite.
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spareNormal = Float(r * sin(theta))
        return mean + std * Float(r * cos(theta))
    }

    /// An index drawn with probability proportional to `weights[i]` (non-negative, finite, not
    /// all zero; they need not sum to 1).
    public mutating func categorical(_ weights: UnsafeBufferPointer<Float>) -> Int {
        // Index loops, not `enumerated()`: the generic iterator is slow in unoptimised builds.
        var total: Float = 0
        for i in 0..<weights.count {
            let w = weights[i]
            require(w >= 0 && w.isFinite, "categorical: weight \(w) at index \(i) is negative or not finite")
            total += w
        }
        require(total > 0, "categorical: the \(weights.count) weights sum to zero")
        let target = uniform() * total
        var cumulative: Float = 0
        var last = 0
        for i in 0..<weights.count where weights[i] > 0 {
            cumulative += weights[i]
            last = i
            if target < cumulative { return i }
        }
        return last  // rounding left target at the very top: the last positive weight
    }

    public mutating func categorical(_ weights: [Float]) -> Int {
        weights.withUnsafeBufferPointer { categorical($0) }
    }

    /// Shuffles `values` in place (Fisher–Yates; no allocation). Inlinable, so that it is
    /// specialised where it is called: unspecialised, each swap went through the array's generic
    /// `_modify` accessor, whose coroutine frame is allocated on the heap (two allocations a swap).
    @inlinable
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            for i in stride(from: buffer.count - 1, to: 0, by: -1) {
                let j = Int(next(upperBound: UInt64(i + 1)))
                buffer.swapAt(i, j)
            }
        }
    }

    /// A uniformly random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// Fills `tensor` with uniform values in [low, high).
    public mutating func fillUniform(_ tensor: inout Tensor, _ low: Float = 0, _ high: Float = 1) {
        tensor.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = uniform(low, high) }
        }
    }

    /// Fills `tensor` with normal values of the given mean and standard deviation.
    public mutating func fillNormal(_ tensor: inout Tensor, mean: Float = 0, std: Float = 1) {
        tensor.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = normal(mean: mean, std: std) }
        }
    }
}

extension Tensor {
    /// A tensor of uniform values in [low, high).
    public static func uniform(_ shape: Shape, _ low: Float = 0, _ high: Float = 1,
                               using rng: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        rng.fillUniform(&t, low, high)
        return t
    }

    /// A tensor of normal values.
    public static func normal(_ shape: Shape, mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        rng.fillNormal(&t, mean: mean, std: std)
        return t
    }
}
