import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CartPole with Gymnasium's CartPole-v1 physics: a pole on a cart, pushed left (0) or right (1)
/// with 10 N; observation (x, ẋ, θ, θ̇); reward 1 per step; terminated when |x| > 2.4 or
/// |θ| > 12°; truncated after 500 steps; explicit Euler integration with τ = 0.02 s.
public final class CartPole: Environment {
    public let observationSpace: Space = .box(low: [-4.8, -.infinity, -0.41887903, -.infinity],
                                              high: [4.8, .infinity, 0.41887903, .infinity])
    public let actionSpace: Space = .discrete(2)
    public let maxSteps: Int
    private var rng: RandomGenerator
    private var state: (x: Float, xDot: Float, theta: Float, thetaDot: Float) = (0, 0, 0, 0)
    private var steps = 0

    static let gravity: Float = 9.8, cartMass: Float = 1.0, poleMass: Float = 0.1, halfLength: Float = 0.5
    static let forceMagnitude: Float = 10, tau: Float = 0.02
    static let thetaLimit: Float = 12 * 2 * .pi / 360, xLimit: Float = 2.4

    public init(seed: UInt64 = 0, maxSteps: Int = 500) {
        rng = RandomGenerator(seed: seed)
        self.maxSteps = maxSteps
    }

    public func reset(seed: UInt64? = nil, observation: inout Tensor) {
        if let seed { rng = RandomGenerator(seed: seed) }
        state = (rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05))
        steps = 0
        write(&observation)
    }

    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .discrete(let a) = action, a == 0 || a == 1 else {
            requirementFailure("CartPole takes .discrete(0) or .discrete(1), got \(action)")
        }
        let force = a == 1 ? Self.forceMagnitude : -Self.forceMagnitude
        let totalMass = Self.cartMass + Self.poleMass, poleMassLength = Self.poleMass * Self.halfLength
        let cosTheta = cosf(state.theta), sinTheta = sinf(state.theta)
        let temp = (force + poleMassLength * state.thetaDot * state.thetaDot * sinTheta) / totalMass
        let thetaAcc = (Self.gravity * sinTheta - cosTheta * temp)
            / (Self.halfLength * (4.0 / 3.0 - Self.poleMass * cosTheta * cosTheta / totalMass))
        let xAcc = temp - poleMassLength * thetaAcc * cosTheta / totalMass
        state.x += Self.tau * state.xDot
        state.xDot += Self.tau * xAcc
        state.theta += Self.tau * state.thetaDot
        state.thetaDot += Self.tau * thetaAcc
        steps += 1
        write(&observation)
        let terminated = abs(state.x) > Self.xLimit || abs(state.theta) > Self.thetaLimit
        return StepResult(reward: 1, terminated: terminated, truncated: !terminated && steps >= maxSteps)
    }

    /// Sets the physical state (x, ẋ, θ, θ̇), as Gymnasium's `env.unwrapped.state = …`.
    public func setState(x: Float, xDot: Float, theta: Float, thetaDot: Float) {
        state = (x, xDot, theta, thetaDot)
    }

    private func write(_ observation: inout Tensor) {
        require(observation.count == 4, "CartPole observations have 4 elements; got a tensor of shape \(observation.shape)")
        observation.withUnsafeMutableBufferPointer { o in
            (o[0], o[1], o[2], o[3]) = (state.x, state.xDot, state.theta, state.thetaDot)
        }
    }
}

/// Pendulum with Gymnasium's Pendulum-v1 dynamics: swing a pendulum up with torque in [−2, 2];
/// observation (cos θ, sin θ, θ̇); reward −(θ² + 0.1·θ̇² + 0.001·u²) with θ normalised to [−π, π);
/// never terminates; truncated after 200 steps.
public final class Pendulum: Environment {
    public let observationSpace: Space = .box(low: [-1, -1, -8], high: [1, 1, 8])
    public let actionSpace: Space = .box(low: [-2], high: [2])
    public let maxSteps: Int
    private var rng: RandomGenerator
    private var theta: Float = 0, thetaDot: Float = 0
    private var steps = 0

    static let maxSpeed: Float = 8, maxTorque: Float = 2, dt: Float = 0.05, gravity: Float = 10, mass: Float = 1, length: Float = 1

    public init(seed: UInt64 = 0, maxSteps: Int = 200) {
        rng = RandomGenerator(seed: seed)
        self.maxSteps = maxSteps
    }

    public func reset(seed: UInt64? = nil, observation: inout Tensor) {
        if let seed { rng = RandomGenerator(seed: seed) }
        theta = rng.uniform(-.pi, .pi)
        thetaDot = rng.uniform(-1, 1)
        steps = 0
        write(&observation)
    }

    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .continuous(let u) = action, u.count == 1 else {
            requirementFailure("Pendulum takes a .continuous tensor of one torque, got \(action)")
        }
        let torque = min(max(u[flat: 0], -Self.maxTorque), Self.maxTorque)
        let angle = Self.normalize(theta)
        let cost = angle * angle + 0.1 * thetaDot * thetaDot + 0.001 * torque * torque
        let g = Self.gravity, m = Self.mass, l = Self.length
        thetaDot += (3 * g / (2 * l) * sinf(theta) + 3 / (m * l * l) * torque) * Self.dt
        thetaDot = min(max(thetaDot, -Self.maxSpeed), Self.maxSpeed)
        theta += thetaDot * Self.dt
        steps += 1
        write(&observation)
        return StepResult(reward: -cost, terminated: false, truncated: steps >= maxSteps)
    }

    /// Sets the angle and angular velocity, as Gymnasium's `env.unwrapped.state = …`.
    public func setState(theta: Float, thetaDot: Float) {
        self.theta = theta
        self.thetaDot = thetaDot
    }

    /// θ wrapped into [−π, π).
    static func normalize(_ x: Float) -> Float {
        let twoPi = 2 * Float.pi
        return x - twoPi * ((x + .pi) / twoPi).rounded(.down)
    }

    private func write(_ observation: inout Tensor) {
        require(observation.count == 3, "Pendulum observations have 3 elements; got a tensor of shape \(observation.shape)")
        observation.withUnsafeMutableBufferPointer { o in (o[0], o[1], o[2]) = (cosf(theta), sinf(theta), thetaDot) }
    }
}

extension CartPole: ResumableEnvironment {
    /// "cartpole|" then x, ẋ, θ, θ̇ as Float bit patterns, the episode's step count and the generator.
    public var stateDescription: String {
        "cartpole|" + FloatText.encode([state.x, state.xDot, state.theta, state.thetaDot]) + "|\(steps)|" + rng.stateDescription
    }

    public func restore(stateDescription text: String) -> Bool {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "cartpole", let values = FloatText.decode(String(parts[1])), values.count == 4, values.allSatisfy(\.isFinite),
              let steps = Int(parts[2]), steps >= 0, let generator = RandomGenerator(stateDescription: String(parts[3])) else {
            return false
        }
        state = (values[0], values[1], values[2], values[3])
        self.steps = steps
        rng = generator
        return true
    }
}

extension Pendulum: ResumableEnvironment {
    /// "pendulum|" then θ, θ̇ as Float bit patterns, the episode's step count and the generator.
    public var stateDescription: String {
        "pendulum|" + FloatText.encode([theta, thetaDot]) + "|\(steps)|" + rng.stateDescription
    }

    public func restore(stateDescription text: String) -> Bool {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pendulum", let values = FloatText.decode(String(parts[1])), values.count == 2, values.allSatisfy(\.isFinite),
              let steps = Int(parts[2]), steps >= 0, let generator = RandomGenerator(stateDescription: String(parts[3])) else {
            return false
        }
        (theta, thetaDot) = (values[0], values[1])
        self.steps = steps
        rng = generator
        return true
    }
}
