import DRLAgents
import DRLTensor
import Foundation
import Testing

/// Agents built from an environment's spaces take its sizes, and training refuses, with a message
/// naming both sides, an environment of other sizes or one instance used for both training and
/// evaluation (programming errors: each refusal traps, so each runs in a child process).
@Suite struct AgentSpacesTests {
    /// Expects the trap's message to name every one of `parts` (`require` prints it in every build).
    func expect(_ result: ExitTest.Result?, toName parts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(parts.allSatisfy(message.contains), "\(message)", sourceLocation: sourceLocation)
    }

    @Test func agentsBuiltFromSpacesTakeTheEnvironmentsSizes() {
        let cartPole = CartPole(), pendulum = Pendulum()
        let dqn = DQNAgent(observationSpace: cartPole.observationSpace, actionSpace: cartPole.actionSpace, seed: 0)
        #expect(dqn.observationDimension == 4 && dqn.actions == 2 && dqn.actionSpace == cartPole.actionSpace)
        let discreteSAC = DiscreteSACAgent(observationSpace: cartPole.observationSpace, actionSpace: cartPole.actionSpace, seed: 0)
        #expect(discreteSAC.actionSpace == cartPole.actionSpace)
        let sac = SACAgent(observationSpace: pendulum.observationSpace, actionSpace: pendulum.actionSpace, seed: 0)
        #expect(sac.observationDimension == 3 && sac.actionSpace == pendulum.actionSpace)
        let td3 = TD3Agent(observationSpace: pendulum.observationSpace, actionSpace: pendulum.actionSpace, seed: 0)
        #expect(td3.actionSpace == pendulum.actionSpace)
        let a2c = A2CAgent(observationSpace: cartPole.observationSpace, actionSpace: .multiDiscrete([3, 2]), environments: 2, seed: 0)
        #expect(a2c.choices == [3, 2] && a2c.actionSpace == .multiDiscrete([3, 2]))
    }

    @Test func aDiscreteAgentRefusesABoxActionSpace() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let pendulum = Pendulum()
            _ = DQNAgent(observationSpace: pendulum.observationSpace, actionSpace: pendulum.actionSpace, seed: 0)
        }
        expect(result, toName: "DQNAgent needs a discrete action space", "box")
    }

    @Test func offPolicyTrainingRefusesOneInstanceForTrainingAndEvaluation() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let environment = CartPole()
            let agent = DQNAgent(observationSpace: environment.observationSpace, actionSpace: environment.actionSpace, seed: 0)
            try agent.train(on: environment, steps: 10, seed: 0, evaluationEnvironment: environment, evaluationInterval: 5)
        }
        expect(result, toName: "the training and evaluation environments are the same CartPole instance")
    }

    @Test func a2cRefusesAnEvaluationEnvironmentThatIsOneOfItsCopies() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let copies = [CartPole(), CartPole()]
            let agent = A2CAgent(observationDimension: 4, choices: [2], environments: 2, seed: 0)
            try agent.train(on: VectorEnvironment(copies), steps: 20, seed: 0, evaluationEnvironment: copies[1], evaluationInterval: 10)
        }
        expect(result, toName: "the training and evaluation environments are the same CartPole instance")
    }

    @Test func trainingRefusesAnotherActionCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let agent = DiscreteSACAgent(observationDimension: 4, actions: 3, seed: 0)
            try agent.train(on: CartPole(), steps: 10, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: 5)
        }
        expect(result, toName: "takes 2 discrete actions", "acts with 3 discrete actions")
    }

    @Test func trainingRefusesAnotherActionDimension() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let agent = TD3Agent(observationDimension: 3, actionLow: [-2, -2], actionHigh: [2, 2], seed: 0)
            try agent.train(on: Pendulum(), steps: 10, seed: 0, evaluationEnvironment: Pendulum(), evaluationInterval: 5)
        }
        expect(result, toName: "takes 1-dimensional box actions", "acts with 2-dimensional box actions")
    }

    @Test func trainingRefusesOtherActionBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let agent = SACAgent(observationDimension: 3, actionLow: [-1], actionHigh: [1], seed: 0)
            try agent.train(on: Pendulum(), steps: 10, seed: 0, evaluationEnvironment: Pendulum(), evaluationInterval: 5)
        }
        expect(result, toName: "from [-2.0] to [2.0]", "from [-1.0] to [1.0]")
    }

    @Test func trainingRefusesAnotherObservationDimension() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let agent = DQNAgent(observationDimension: 5, actions: 2, seed: 0)
            try agent.train(on: CartPole(), steps: 10, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: 5)
        }
        expect(result, toName: "has 4-dimensional observations", "expects 5")
    }

    @Test func a2cRefusesAnotherActionSpace() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let agent = A2CAgent(observationDimension: 4, choices: [3, 2], environments: 2, seed: 0)
            try agent.train(on: VectorEnvironment([CartPole(), CartPole()]), steps: 20, seed: 0, evaluationEnvironment: CartPole(),
                            evaluationInterval: 10)
        }
        expect(result, toName: "takes 2 discrete actions", "acts with 2 discrete choices of [3, 2] options")
    }
}
