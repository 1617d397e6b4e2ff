import DRLNN
import DRLTensor

/// What SAC's and TD3's networks share: ReLU MLPs, critics that read [observation | action] rows,
/// and the critics' regression onto the TD targets.
enum TwinCritics {
    /// Linear layers of `sizes` with ReLU between them, and a tanh on the output when asked.
    static func multilayerPerceptron(_ sizes: [Int], tanhOutput: Bool = false, inputGradient: Bool,
                                     using rng: inout RandomGenerator) -> Sequential {
        var layers: [Layer] = []
        for i in 0..<(sizes.count - 1) {
            layers.append(Linear(sizes[i], sizes[i + 1], using: &rng))
            if i < sizes.count - 2 { layers.append(ActivationLayer(.relu)) }
        }
        if tanhOutput { layers.append(ActivationLayer(.tanh)) }
        return Sequential(layers, computesInputGradient: inputGradient)
    }

    /// Writes row i of `input` as [observations row i | actions row i].
    static func fillInput(_ input: inout Tensor, observations: Tensor, actions: Tensor) {
        let o = observations.shape[1], a = actions.shape[1], width = input.shape[1], rows = input.shape[0]
        require(width == o + a && observations.shape[0] >= rows && actions.shape[0] >= rows,
                "critic input \(input.shape) cannot hold observations \(observations.shape) beside actions \(actions.shape)")
        observations.withUnsafeBufferPointer { obs in
            actions.withUnsafeBufferPointer { act in
                input.withUnsafeMutableBufferPointer { row in
                    for i in 0..<rows {
                        (row.baseAddress! + i * width).update(from: obs.baseAddress! + i * o, count: o)
                        (row.baseAddress! + i * width + o).update(from: act.baseAddress! + i * a, count: a)
                    }
                }
            }
        }
    }

    /// Accumulates the gradient of ½·mean((Q(input) − targets)²) into `critic`'s parameters, with
    /// `dq` ([B, 1]) as scratch, and returns that loss.
    static func regress(_ critic: Sequential, input: Tensor, targets: Tensor, dq: inout Tensor) -> Float {
        let loss = squaredError(critic, input: input, targets: targets, dq: &dq)
        critic.backwardParametersOnly(dq)  // without an encoder the critic update needs no input gradient
        return loss
    }

    /// `regress`, also adding the gradient with respect to the first f input columns (the encoded
    /// state) into `featureGradient` [B, f].
    static func regress(_ critic: Sequential, input: Tensor, targets: Tensor, dq: inout Tensor,
                        accumulatingFeatureGradientInto featureGradient: inout Tensor) -> Float {
        let loss = squaredError(critic, input: input, targets: targets, dq: &dq)
        let dInput = critic.backward(dq), (b, f) = featureGradient.shape.matrix, width = dInput.shape[1]
        require(dInput.shape[0] == b && width >= f, "critic input gradient \(dInput.shape) has no [\(b), \(f)] state block")
        dInput.withUnsafeBufferPointer { d in
            featureGradient.withUnsafeMutableBufferPointer { g in
                for i in 0..<b { for j in 0..<f { g[i * f + j] += d[i * width + j] } }
            }
        }
        return loss
    }

    /// ½·mean((Q(input) − targets)²), with its gradient with respect to Q in `dq`.
    private static func squaredError(_ critic: Sequential, input: Tensor, targets: Tensor, dq: inout Tensor) -> Float {
        let b = input.shape[0]
        let q = critic.forward(input)
        var loss: Float = 0
        for i in 0..<b {
            let error = q[flat: i] - targets[flat: i]
            loss += error * error
            dq[i, 0] = error / Float(b)
        }
        return 0.5 * loss / Float(b)
    }
}
