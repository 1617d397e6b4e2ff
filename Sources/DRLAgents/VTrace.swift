import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Episodes another policy played, logged for learning off-policy: each step's observation, the
/// action taken (one choice per head), the reward, the probability the behaviour policy had of
/// taking that action (the logged propensity of the joint action), and whether the step ended
/// its episode. Steps are in order within an episode and episodes follow one another.
public struct LoggedEpisodes {
    public let observations: Tensor
    public let actions: [[Int32]]
    public let rewards: [Float]
    public let behaviourProbabilities: [Float]
    public let episodeEnds: [Bool]

    public var count: Int { rewards.count }

    /// Checks the shapes and values; the failure says which step is wrong and how.
    public init(observations: Tensor, actions: [[Int32]], rewards: [Float], behaviourProbabilities: [Float], episodeEnds: [Bool]) {
        let n = rewards.count
        require(observations.shape.rank == 2 && observations.shape[0] == n && behaviourProbabilities.count == n && episodeEnds.count == n
                && actions.allSatisfy { $0.count == n },
                "LoggedEpisodes: \(n) rewards need \(n) observation rows, actions, behaviour probabilities and episode ends")
        require(n == 0 || episodeEnds[n - 1], "LoggedEpisodes: the last step must end its episode")
        for (i, p) in behaviourProbabilities.enumerated() where !(p > 0 && p <= 1) {
            requirementFailure("LoggedEpisodes: step \(i)'s behaviour probability \(p) is not in (0, 1]")
        }
        (self.observations, self.actions, self.rewards, self.behaviourProbabilities, self.episodeEnds)
            = (observations, actions, rewards, behaviourProbabilities, episodeEnds)
    }
}

/// Off-policy actor-critic by V-trace (Espeholt et al. 2018, IMPALA): the A2C agent learns from
/// episodes another policy μ played. With the truncated ratios ρᵢ = min(ρ̄, π(aᵢ|xᵢ)/μ(aᵢ|xᵢ)) and
/// cᵢ = min(c̄, π/μ), the value targets are vᵢ = V(xᵢ) + δᵢ + γcᵢ(vᵢ₊₁ − V(xᵢ₊₁)) with
/// δᵢ = ρᵢ(rᵢ + γV(xᵢ₊₁) − V(xᵢ)) (both zero after an episode's last step), and the policy follows
/// ρᵢ(rᵢ + γvᵢ₊₁ − V(xᵢ))·∇log π(aᵢ|xᵢ) with the agent's entropy bonus. Each pass over the steps
/// computes the targets once with the current networks, then takes minibatch gradient steps over
/// the steps in a shuffled order (the agent's optimiser and gradient clipping): first
/// `criticWarmUpSteps` of the critic alone, then `gradientSteps` of both. The advantages are not
/// normalised, whatever the agent's setting: subtracting their mean would give a step whose
/// ratio is truncated to zero a weight of its own (in a test, it made the actor settle on a
/// wrong action).
extension A2CAgent {
    /// The truncation levels of the importance ratios.
    public struct VTraceSettings: Sendable {
        public var rhoBar: Float = 1, cBar: Float = 1
        /// Gradient steps of the actor and critic together: how far the policy may move from where it started.
        public var gradientSteps = 200
        /// Gradient steps before them that train the critic alone: a critic that learnt other
        /// rewards (a simulator's, where the logs credit only what the platform observed) first
        /// learns the logged ones, so that the actor's first advantages are not its errors.
        public var criticWarmUpSteps = 0
        /// Weight β of the divergence KL(π₀‖π) from the policy the training starts from (π₀), summed
        /// over the heads and averaged over a minibatch's steps, added to the actor's loss: a soft
        /// freeze that holds the policy near π₀ wherever the logged advantages do not outweigh it
        /// (0: none, the gradient steps alone bound the move).
        public var anchorWeight: Float = 0
        public var batchSize = 256
        public init() {}
    }

    /// What an off-policy training saw: how far the policy was from the behaviour before the first
    /// step and after the last, as KL(μ‖π) estimated on the logged actions (the mean of
    /// log μ(a|x)/π(a|x)); how far it moved, as KL(π₀‖π) from the policy it started from, averaged
    /// over the logged observations and summed over the heads; and the last minibatch's losses.
    public struct VTraceSummary: Sendable {
        public var divergenceBefore: Double, divergenceAfter: Double
        public var divergenceFromStart: Double
        public var losses: (policy: Float, value: Float, entropy: Float)
    }

    /// The V-trace value targets vᵢ and policy-gradient advantages ρᵢ(rᵢ + γvᵢ₊₁ − V(xᵢ)) of logged
    /// steps (see the extension), computed backwards through each episode, given each step's
    /// value V(xᵢ) and importance ratio π/μ.
    public static func vTraceTargets(rewards: [Float], values: [Float], ratios: [Float], episodeEnds: [Bool], gamma: Float,
                                     rhoBar: Float, cBar: Float, targets: inout [Float], advantages: inout [Float]) {
        var nextTarget: Float = 0, nextValue: Float = 0
        for i in stride(from: rewards.count - 1, through: 0, by: -1) {
            if episodeEnds[i] { (nextTarget, nextValue) = (0, 0) }
            let rho = min(rhoBar, ratios[i]), c = min(cBar, ratios[i])
            let delta = rho * (rewards[i] + gamma * nextValue - values[i])
            targets[i] = values[i] + delta + gamma * c * (nextTarget - nextValue)
            advantages[i] = rho * (rewards[i] + gamma * nextTarget - values[i])
            (nextTarget, nextValue) = (targets[i], values[i])
        }
    }

    /// Trains on `episodes` (see the extension); `seed` orders the minibatches.
    public func trainOffPolicy(on episodes: LoggedEpisodes, settings: VTraceSettings = VTraceSettings(),
                               seed: UInt64) throws(NonFiniteError) -> VTraceSummary {
        let n = episodes.count
        require(n > 0 && episodes.observations.shape[1] == observationDimension && episodes.actions.count == choices.count,
                "A2CAgent.trainOffPolicy: episodes of \(episodes.observations.shape) observations and \(episodes.actions.count) heads for an agent of \(observationDimension) and \(choices.count)")
        for (h, options) in choices.enumerated() {
            if let bad = episodes.actions[h].firstIndex(where: { !(0..<Int32(options)).contains($0) }) {
                requirementFailure("A2CAgent.trainOffPolicy: step \(bad)'s action \(episodes.actions[h][bad]) of head \(h) is outside 0..<\(options)")
            }
        }
        let gamma = configuration.gamma
        var ratios = [Float](repeating: 0, count: n), values = [Float](repeating: 0, count: n)
        var targets = [Float](repeating: 0, count: n), advantages = [Float](repeating: 0, count: n)
        var logProbability = [Float](repeating: 0, count: n)
        // π₀'s probabilities of every head's options at every logged observation, rows of `choices[h]`.
        var startProbabilities: [[Float]] = []
        var divergenceFromStart = 0.0
        // log π(aᵢ|xᵢ), π/μ and V(xᵢ) for every step with the current networks, and KL(π₀‖π).
        func evaluate() {
            policy.forward(episodes.observations)
            let first = startProbabilities.isEmpty
            divergenceFromStart = 0
            for i in 0..<n { logProbability[i] = 0 }
            for h in choices.indices {
                let logits = policy.logits[h], options = choices[h]
                var start = first ? [Float](repeating: 0, count: n * options) : startProbabilities[h]
                logits.withUnsafeBufferPointer { z in
                    for i in 0..<n {
                        let row = z.baseAddress! + i * options
                        var largest = row[0]
                        for c in 1..<options { largest = max(largest, row[c]) }
                        var total: Float = 0
                        for c in 0..<options { total += expf(row[c] - largest) }
                        let logTotal = logf(total)
                        logProbability[i] += row[Int(episodes.actions[h][i])] - largest - logTotal
                        if first {
                            for c in 0..<options { start[i * options + c] = expf(row[c] - largest - logTotal) }
                        } else {
                            for c in 0..<options where start[i * options + c] > 0 {
                                let p = Double(start[i * options + c])
                                divergenceFromStart += p * (log(p) - Double(row[c] - largest - logTotal))
                            }
                        }
                    }
                }
                if first { startProbabilities.append(start) }
            }
            divergenceFromStart /= Double(n)
            for i in 0..<n { ratios[i] = expf(logProbability[i]) / episodes.behaviourProbabilities[i] }
            let v = valueNetwork.forward(episodes.observations)
            v.withUnsafeBufferPointer { column in for i in 0..<n { values[i] = column[i] } }
        }
        // From the log-probabilities, which stay finite where π(a|x) underflows.
        func divergence() -> Double {
            zip(episodes.behaviourProbabilities, logProbability).reduce(0.0) { $0 + log(Double($1.0)) - Double($1.1) } / Double(n)
        }
        // β·KL(π₀‖π) of head h over the minibatch `rows`, its gradient β(π − π₀)/m added to the logits'.
        func anchor(h: Int, rows: ArraySlice<Int>, logits: Tensor, logSumExps: Tensor, gradient: inout Tensor) -> Float {
            let options = choices[h], beta = settings.anchorWeight, scale = beta / Float(rows.count)
            // The sum is returned from the closures: a captured variable may be boxed on the heap.
            let total: Float = startProbabilities[h].withUnsafeBufferPointer { start in
                logits.withUnsafeBufferPointer { z in logSumExps.withUnsafeBufferPointer { lse in
                    gradient.withUnsafeMutableBufferPointer { g in
                        var sum: Float = 0
                        for (r, i) in rows.enumerated() {
                            for c in 0..<options {
                                let logP = z[r * options + c] - lse[r], p0 = start[i * options + c]
                                g[r * options + c] += scale * (expf(logP) - p0)
                                if p0 > 0 { sum += p0 * (logf(p0) - logP) }
                            }
                        }
                        return sum
                    }
                } }
            }
            return total * scale
        }
        evaluate()
        let before = divergence()
        var order = Array(0..<n)
        var rng = RandomGenerator(seed: seed, stream: 0x7ACE)
        // Minibatch workspaces: a step allocates nothing once every batch size has been met.
        var observationBuffer = Buffer(), weightBuffer = Buffer(), targetBuffer = Buffer(), valueGradientBuffer = Buffer()
        var logitGradientBuffers = choices.map { _ in Buffer() }
        var batchActions: [Int: [[Int32]]] = [:]  // by minibatch size: a pass's last batch is smaller
        let crossEntropies = choices.map { _ in SoftmaxCrossEntropyLoss() }, entropies = choices.map { _ in CategoricalEntropy() }
        let valueLoss = MSELoss()
        var logitGradients = choices.map { _ in Tensor(zeros: Shape(0, 0)) }
        var losses: (policy: Float, value: Float, entropy: Float) = (0, 0, 0)
        var steps = 0, pass = 0
        require(settings.anchorWeight >= 0 && settings.anchorWeight.isFinite,
                "A2CAgent.trainOffPolicy: the anchor's weight \(settings.anchorWeight) must be non-negative and finite")
        require(settings.criticWarmUpSteps >= 0 && settings.gradientSteps >= 0,
                "A2CAgent.trainOffPolicy: \(settings.criticWarmUpSteps) critic warm-up steps and \(settings.gradientSteps) steps; neither may be negative")
        let totalSteps = settings.criticWarmUpSteps + settings.gradientSteps
        let actorParameters = policy.namedParameters.map(\.parameter)
        let frozen = actorParameters.map(\.isFrozen)
        defer { for (parameter, wasFrozen) in zip(actorParameters, frozen) { parameter.isFrozen = wasFrozen } }
        while steps < totalSteps {
            if pass > 0 { evaluate() }
            pass += 1
            Self.vTraceTargets(rewards: episodes.rewards, values: values, ratios: ratios, episodeEnds: episodes.episodeEnds, gamma: gamma,
                               rhoBar: settings.rhoBar, cBar: settings.cBar, targets: &targets, advantages: &advantages)
            rng.shuffle(&order)
            for start in stride(from: 0, to: n, by: settings.batchSize) where steps < totalSteps {
                steps += 1
                let rows = order[start..<min(start + settings.batchSize, n)]
                let m = rows.count
                var batchObservations = observationBuffer.view(Shape(m, observationDimension))
                var weights = weightBuffer.view(Shape(m)), valueTargets = targetBuffer.view(Shape(m))
                episodes.observations.withUnsafeBufferPointer { source in
                    batchObservations.withUnsafeMutableBufferPointer { destination in
                        for (r, i) in rows.enumerated() {
                            for d in 0..<observationDimension { destination[r * observationDimension + d] = source[i * observationDimension + d] }
                        }
                    }
                }
                weights.withUnsafeMutableBufferPointer { w in valueTargets.withUnsafeMutableBufferPointer { v in
                    for (r, i) in rows.enumerated() { (w[r], v[r]) = (advantages[i], targets[i]) }
                } }
                // Taken out while written, so that the arrays are not copied on write.
                var actions = batchActions.removeValue(forKey: m) ?? choices.map { _ in [Int32](repeating: 0, count: m) }
                for h in choices.indices {
                    for (r, i) in rows.enumerated() { actions[h][r] = episodes.actions[h][i] }
                }
                defer { batchActions[m] = actions }
                store.zeroGradients()
                var policyLoss: Float = 0, entropy: Float = 0
                // During the warm-up the actor is frozen, so that the optimiser's momentum does not move it either.
                let warmingUp = steps <= settings.criticWarmUpSteps
                for (parameter, wasFrozen) in zip(actorParameters, frozen) { parameter.isFrozen = wasFrozen || warmingUp }
                if !warmingUp {
                    policy.forward(batchObservations)
                    for h in choices.indices {
                        policyLoss += crossEntropies[h](policy.logits[h], targets: actions[h], weights: weights)
                        entropy += entropies[h](policy.logits[h])
                        logitGradients[h] = logitGradientBuffers[h].view(crossEntropies[h].gradient.shape)
                        logitGradients[h].copy(from: crossEntropies[h].gradient)
                        axpy(-configuration.entropyCoefficient, entropies[h].gradient, &logitGradients[h])
                        if settings.anchorWeight > 0 {
                            policyLoss += anchor(h: h, rows: rows, logits: policy.logits[h], logSumExps: crossEntropies[h].logSumExps,
                                                 gradient: &logitGradients[h])
                        }
                    }
                    policy.backward(logitGradients)
                }
                let predicted = valueNetwork.forward(batchObservations)
                let valueError = valueLoss(predicted.reshaped(Shape(m)), valueTargets)
                var valueGradient = valueGradientBuffer.view(Shape(m, 1))
                valueGradient.copy(from: valueLoss.gradient.reshaped(Shape(m, 1)))
                valueGradient *= configuration.valueCoefficient
                valueNetwork.backwardParametersOnly(valueGradient)
                if !(policyLoss.isFinite && valueError.isFinite && entropy.isFinite) {  // named only on failure: a list would allocate
                    for (name, value) in [("policy loss", policyLoss), ("value loss", valueError), ("entropy", entropy)] where !value.isFinite {
                        throw NonFiniteError(quantity: "loss", parameter: "V-trace \(name)", element: steps, value: value)
                    }
                }
                store.clipGradientNorm(configuration.maxGradientNorm)
                try optimizer.update()
                losses = (policyLoss, valueError, entropy)
            }
        }
        evaluate()
        return VTraceSummary(divergenceBefore: before, divergenceAfter: divergence(), divergenceFromStart: divergenceFromStart, losses: losses)
    }
}
