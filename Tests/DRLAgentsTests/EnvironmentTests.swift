import DRLAgents
import DRLTensor
import Testing

@Suite struct EnvironmentTests {
    /// Trajectories printed by Gymnasium (scripts/gymnasium_reference.py).
    @Test func cartPoleMatchesGymnasium() {
        let env = CartPole()
        var observation = Tensor(zeros: Shape(4))
        env.reset(seed: 0, observation: &observation)
        env.setState(x: 0.01, xDot: -0.02, theta: 0.03, thetaDot: 0.04)
        let expected: [[Float]] = [
            [0.009600000455975533, 0.17467918992042542, 0.030799999833106995, -0.24306872487068176],
            [0.013093584217131138, 0.3693479895591736, 0.025938626378774643, -0.5258796215057373],
            [0.02048054337501526, 0.17387081682682037, 0.015421032905578613, -0.22513741254806519],
            [0.023957960307598114, 0.3687690198421478, 0.010918284766376019, -0.5129163265228271],
            [0.03133333846926689, 0.17349499464035034, 0.0006599578191526234, -0.216812863945961],
            [0.03480324149131775, -0.021636387333273888, -0.0036762994714081287, 0.07607816159725189],
            [0.03437051177024841, 0.17353807389736176, -0.002154736313968897, -0.21776238083839417],
        ]
        for (action, row) in zip([1, 1, 0, 1, 0, 0, 1], expected) {
            let result = env.step(.discrete(action), observation: &observation)
            #expect(result.reward == 1 && !result.terminated && !result.truncated)
            for i in 0..<4 { #expect(abs(observation[flat: i] - row[i]) < 2e-6, "component \(i): \(observation[flat: i]) vs \(row[i])") }
        }
    }

    @Test func cartPoleTerminatesWhenThePoleFallsAndTruncatesAtTheLimit() {
        let env = CartPole(seed: 1, maxSteps: 500)
        var observation = Tensor(zeros: Shape(4))
        env.reset(seed: 1, observation: &observation)
        var steps = 0, result = StepResult(reward: 0, terminated: false, truncated: false)
        repeat { result = env.step(.discrete(1), observation: &observation); steps += 1 } while !result.terminated && !result.truncated
        #expect(result.terminated && steps < 100)  // always pushing right topples the pole
        let short = CartPole(seed: 2, maxSteps: 5)
        short.reset(seed: 2, observation: &observation)
        for step in 1...5 {
            let r = short.step(.discrete(step % 2), observation: &observation)
            #expect(r.truncated == (step == 5) && !r.terminated)
        }
    }

    @Test func pendulumMatchesGymnasium() {
        let env = Pendulum()
        var observation = Tensor(zeros: Shape(3))
        env.reset(seed: 0, observation: &observation)
        env.setState(theta: 2.5, thetaDot: -0.5)
        let expected: [([Float], Float)] = [
            ([-0.8063156008720398, 0.5914855003356934, 0.17385411262512207], -6.2772500001359735),
            ([-0.8156025409698486, 0.5786125659942627, 0.3174682557582855], -6.300561615426281),
            ([-0.8379909992218018, 0.5456840395927429, 0.7964276671409607], -6.383602690932144),
        ]
        for (torque, (row, reward)) in zip([1.5, -2.5, 0.3] as [Float], expected) {
            let result = env.step(.continuous(Tensor(shape: Shape(1), scalars: [torque])), observation: &observation)
            #expect(abs(result.reward - reward) < 1e-5 && !result.terminated)
            for i in 0..<3 { #expect(abs(observation[flat: i] - row[i]) < 2e-6) }
        }
    }

    @Test func seedsMakeEpisodesReproducible() {
        func firstObservations(_ seed: UInt64) -> [Float] {
            let env = CartPole()
            var o = Tensor(zeros: Shape(4))
            env.reset(seed: seed, observation: &o)
            var values = o.scalars
            env.reset(seed: nil, observation: &o)
            values += o.scalars
            return values
        }
        #expect(firstObservations(7) == firstObservations(7))
        #expect(firstObservations(7) != firstObservations(8))
    }

    @Test func vectorEnvironmentResetsFinishedCopiesAndKeepsTheirFinalObservations() {
        let vector = VectorEnvironment((0..<3).map { _ in CartPole(maxSteps: 4) as Environment })
        vector.reset(seed: 10)
        let first = vector.observations.clone()
        #expect(first[row: 0].scalars != first[row: 1].scalars)
        for step in 1...4 {
            vector.step { i in .discrete(i % 2) }
            if step < 4 {
                #expect(vector.finishedReturns.isEmpty && vector.terminated.allSatisfy { !$0 })
            } else {
                // All three hit the 4-step limit: final observations kept, copies reset.
                #expect(vector.truncated.allSatisfy { $0 } && vector.finishedReturns == [4, 4, 4])
                #expect(vector.observations != vector.finalObservations)
                #expect(vector.episodeReturns == [0, 0, 0])
            }
        }
    }
}
