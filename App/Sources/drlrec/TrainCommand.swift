import DRLAgents
import DRLNN
import DRLScenarios
import DRLSimulation
import DRLTensor
import ArgumentParser
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an agent on a validation environment or a recommendation simulator and print its evaluation returns."
    )

    enum EnvironmentName: String, ExpressibleByArgument, CaseIterable { case cartpole, pendulum, ecommerce, video, education }
    enum AgentName: String, ExpressibleByArgument, CaseIterable { case dqn, a2c, sac, sacDiscrete = "sac-discrete", td3 }

    @Option(name: .customLong("env"), help: "Environment: \(EnvironmentName.allCases.map(\.rawValue).joined(separator: ", ")) (default: cartpole).")
    var envOption: EnvironmentName?

    @Option(help: "Agent: \(AgentName.allCases.map(\.rawValue).joined(separator: ", ")) (default: dqn on cartpole, sac on pendulum, ecommerce and video, a2c on education).")
    var agent: AgentName?

    @Option(parsing: .unconditional, help: "Environment steps of the run in total (default: 100,000 for dqn, 50,000 for the others; 40,000 on ecommerce; 20,000 on video; 2,000,000 on education); a run restored with --load trains on until its agent has taken this many.")
    var steps: Int?

    @Option(help: ArgumentHelp("Simulator settings for ecommerce, video or education: a JSON object of snake_case keys (pass the same file to abtest).", valueName: "path"))
    var config: String?

    @Option(help: ArgumentHelp("On ecommerce: the ranker reads the context and the last 10 clicks through a state encoder trained end to end with SAC: \(SequenceStateEncoder.Configuration.SequenceModel.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "model"))
    var stateEncoder: SequenceStateEncoder.Configuration.SequenceModel?

    @Option(name: .customLong("seed"), parsing: .unconditional, help: "Random seed (default 0; the run is reproducible for a seed).")
    var seedOption: UInt64?

    @Option(help: ArgumentHelp("The agent's hyperparameters from a configuration file: a JSON object of snake_case keys over the agent's defaults (--print-config shows them all with their values).",
                               valueName: "path"))
    var agentConfig: String?

    @Option(name: .customLong("hyperparameter"), help: ArgumentHelp("Set one hyperparameter of the agent, after --agent-config (repeat it for more): KEY=VALUE with a JSON value (learning_rate=3e-4, hidden_sizes=[128,128], double_q=false, activation=\"relu\"); a comma list and a bare word are read as a list and a string.",
                                                                     valueName: "key=value"))
    var hyperparameterSettings: [String] = []

    @Option(help: ArgumentHelp("Run again what wrote this checkpoint, as it records it: environment, agent, hyperparameters, simulator settings, steps, seed and evaluation (an option given beside it changes that setting).",
                               valueName: "checkpoint"))
    var fromCheckpointConfig: String?

    @Flag(help: "Print the run's configuration as a checkpoint records it (the run, the agent's hyperparameters, the simulator's settings) and exit without training.")
    var printConfig = false

    @Option(name: .customLong("evaluation-interval"), parsing: .unconditional, help: "Evaluate the greedy policy every this many environment steps (default 5,000; 200,000 on education).")
    var evaluationIntervalOption: Int?

    @Option(parsing: .unconditional, help: "Episodes per evaluation (users on ecommerce; default 10, 50 on ecommerce).")
    var evaluationEpisodes: Int?

    @Option(help: ArgumentHelp("Resume the run saved in this checkpoint: the agent, and, when a training run wrote it, the environment and the episode statistics, so that it continues exactly as if it had not stopped.",
                               valueName: "path"))
    var load: String?

    @Option(name: [.customLong("out"), .customLong("save")],
            help: ArgumentHelp("Write the trained policy to this checkpoint (safetensors, replaced atomically) when training ends: what serving, abtest and the registry read (default on the recommendation scenarios: .drlrec/ENV.safetensors, where abtest looks).",
                               valueName: "path"))
    var save: String?

    @Flag(help: "Write the whole training state to the checkpoints instead of the policy alone (networks, target networks, optimizers, replay buffer, generators and the environment's state): what --load resumes from and what the closed loop's learning starts from; far larger.")
    var saveState = false

    var savePath: String? { save ?? plannedScenario?.defaultCheckpoint }
    /// The scenario of --env, or of the checkpoint whose run is repeated, before the plan is made.
    private var plannedScenario: Scenario? {
        (envOption ?? (try? recordedRun())??.env).flatMap { Scenario(rawValue: $0.rawValue) }
    }

    @Option(parsing: .unconditional, help: ArgumentHelp("With --out, also write the checkpoint every this many environment steps.",
                               valueName: "steps"))
    var checkpointInterval: Int?

    @Option(help: ArgumentHelp("With --out, also keep the best evaluated agent here: written whenever an evaluation's mean return is above every earlier one (a resumed run compares with the return the file records).",
                               valueName: "path"))
    var saveBest: String?

    @Option(help: ArgumentHelp("Also write each evaluation to this file, rewritten atomically at each: CSV with a header when the path ends in .csv, JSON lines otherwise.",
                               valueName: "path"))
    var metrics: String?

    @Option(help: ArgumentHelp("Also write an HTML report here when training ends: the learning curves, the final evaluation, and the command, run, hyperparameters and simulator settings that made them (one self-contained page).",
                               valueName: "file.html"))
    var report: String?

    @Flag(help: "Print one JSON object per evaluation instead of a table.")
    var json = false

    @Flag(help: "Print only the final evaluation return, not the progress lines.")
    var quiet = false

    func validate() throws {
        let plan = try plan()
        let env = plan.env, chosenAgent = plan.agent, stateEncoder = plan.stateEncoder
        switch (env, chosenAgent) {
        case (.cartpole, .dqn), (.cartpole, .a2c), (.cartpole, .sacDiscrete), (.pendulum, .sac), (.pendulum, .td3), (.ecommerce, .sac), (.ecommerce, .td3),
             (.video, .sac), (.video, .td3), (.education, .a2c): break
        default: throw ValidationError("--agent \(chosenAgent.rawValue) does not run on --env \(env.rawValue): dqn, a2c and sac-discrete need discrete actions (cartpole), sac and td3 continuous ones (pendulum, and the ranking weights of ecommerce and video); education takes the two-path a2c")
        }
        if stateEncoder != nil, env != .ecommerce || chosenAgent != .sac {
            throw ValidationError("--state-encoder runs with --env ecommerce and --agent sac")
        }
        if config != nil, [.cartpole, .pendulum].contains(env) {
            throw ValidationError("--config sets a recommendation simulator (ecommerce, video, education), not \(env.rawValue)")
        }
        if fromCheckpointConfig != nil, load != nil {
            throw ValidationError("--from-checkpoint-config runs a recorded run again from the start; --load resumes one (give one of them)")
        }
        guard plan.steps > 0 else { throw ValidationError("--steps must be positive, got \(plan.steps)") }
        guard plan.evaluationInterval > 0, plan.evaluationEpisodes > 0 else {
            throw ValidationError("--evaluation-interval and --evaluation-episodes must be positive")
        }
        if let checkpointInterval {
            guard savePath != nil else { throw ValidationError("--checkpoint-interval needs --out PATH to write to") }
            guard saveState else { throw ValidationError("--checkpoint-interval writes the run to resume from, which needs --save-state") }
            guard checkpointInterval > 0 else { throw ValidationError("--checkpoint-interval must be positive, got \(checkpointInterval)") }
        }
        if let load, let metadata = try? SafeTensors.describe(load).metadata,
           metadata[AgentCheckpoint.contentsKey] == CheckpointContents.policy.rawValue {
            throw CommandFailure("--load \(load): the file holds only the policy, not the training state that resuming needs (write the run with --save-state)")
        }
        // Refuse an unwritable destination before training rather than after.
        if save == nil, let path = savePath { try ensureDirectory(of: path) }
        if saveBest != nil {
            guard savePath != nil else { throw ValidationError("--save-best needs --out PATH for the last agent") }
            guard saveBest != savePath else { throw ValidationError("--save-best must be another file than --out") }
        }
        for (option, path) in [("--out", savePath), ("--metrics", metrics), ("--save-best", saveBest), ("--report", report)] {
            if let path { try requireWritableDirectory(of: path, option: option) }
        }
    }

    func run() throws {
        let plan = try plan()
        if printConfig {
            print(plan.description)
            return
        }
        let env = plan.env, chosenAgent = plan.agent, seed = plan.seed, scenario = plan.scenario, stateEncoder = plan.stateEncoder
        let evaluationInterval = plan.evaluationInterval
        let start = Sampler.now()
        var startStep = 0  // a restored agent's step count: the rate counts this run's steps only
        let bar = ProgressBar("training", unit: "steps", total: plan.steps, mode: .of(json: json, quiet: quiet))
        // A resumed run appends to the metrics its earlier part wrote.
        var metricsText = load != nil ? metrics.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" : ""
        var metricsError: Error?
        let report = { (record: EvaluationRecord) in
            let rate = Double(record.step - startStep) / (Sampler.now() - start)
            let fields = JSONLine([
                ("env", .string(env.rawValue)), ("agent", .string(chosenAgent.rawValue)), ("seed", .int(Int(seed))),
                ("step", .int(record.step)), ("evaluation_return", .float(record.meanReturn)),
                ("training_episodes", .int(record.trainingEpisodes)),
                ("recent_training_return", record.recentTrainingReturn.map { .float($0) } ?? .null),
                ("loss", record.loss.map { .float($0) } ?? .null),
                ("steps_per_s", .double(rate.rounded())),
            ])
            let line = fields.text
            if let metrics, metricsError == nil {
                if metrics.lowercased().hasSuffix(".csv") {
                    if metricsText.isEmpty { metricsText = fields.csvHeader + "\n" }
                    metricsText += fields.csvRow + "\n"
                } else {
                    metricsText += line + "\n"
                }
                do { try Data(metricsText.utf8).write(to: URL(fileURLWithPath: metrics), options: .atomic) } catch { metricsError = error }
            }
            guard !quiet else { return }
            bar.clear()
            if json {
                print(JSONLine([("event", .string("evaluation"))] + fields.fields).text)
            } else {
                let recent = record.recentTrainingReturn.map { String(format: "%.1f", $0) } ?? "-"
                let loss = record.loss.map { String(format: "%.4g", $0) } ?? "-"
                print("step \(record.step)  evaluation return \(String(format: "%.1f", record.meanReturn))"
                      + "  recent training return \(recent) (\(record.trainingEpisodes) episodes)  loss \(loss)  \(Int(rate)) steps/s")
            }
        }
        // A scenario's checkpoints say what they hold, so that abtest and the registry rebuild the policy from the file:
        // the checkpoints, labelled with the scenario and, for a ranker with a state encoder, the
        // history length its simulator's observation has (the settings file may set it).
        func schedule(history: Int? = nil, simulator: Environment? = nil) -> CheckpointSchedule? {
            let encoder = stateEncoder.flatMap { model in history.map { (model: model, history: $0) } }
            let settings = simulator.flatMap(ScenarioSimulators.settings(of:))
            var labels = scenario.map { ScenarioCheckpoint.labels(scenario: $0, settings: settings, stateEncoder: encoder) } ?? [:]
            labels[TrainingRunRecord.key] = plan.record.text
            return savePath.map { CheckpointSchedule(every: checkpointInterval, to: $0, best: saveBest, labels: labels,
                                                     contents: saveState ? .trainingState : .policy) }
        }
        let agent = chosenAgent, steps = plan.steps, evaluationEpisodes = plan.evaluationEpisodes
        /// Steps left to reach --steps for an agent that has taken `done` (a restored one).
        func remaining(after done: Int) throws -> Int {
            startStep = done
            bar.first = done
            guard done < steps else {
                throw CommandFailure("--load \(load ?? ""): the checkpoint has \(done) environment steps already; --steps (\(steps)) is the run's total, so raise it to train on")
            }
            return steps - done
        }
        do {
            let records: [EvaluationRecord]
            switch agent {
            case .dqn, .sacDiscrete:
                let learner: OffPolicyAgent
                var resuming: TrainingLoopState?
                let training = CartPole(seed: seed)
                if agent == .dqn {
                    var configuration = try plan.configuration(DQNConfiguration())
                    configuration.totalSteps = steps
                    let dqn = DQNAgent(observationSpace: training.observationSpace, actionSpace: training.actionSpace,
                                       configuration: configuration, seed: seed)
                    if let load { resuming = try dqn.load(from: load) }
                    learner = dqn
                } else {
                    let sac = DiscreteSACAgent(observationSpace: training.observationSpace, actionSpace: training.actionSpace,
                                               configuration: try plan.configuration(DiscreteSACConfiguration()), seed: seed)
                    if let load { resuming = try sac.load(from: load) }
                    learner = sac
                }
                records = try learner.train(on: training, steps: remaining(after: learner.environmentSteps), seed: seed,
                                            evaluationEnvironment: CartPole(), evaluationInterval: evaluationInterval,
                                            evaluationEpisodes: evaluationEpisodes, checkpoints: schedule(), resuming: resuming,
                                            progress: report, stepProgress: bar.update)
            case .a2c where env == .education:
                let settings = try ScenarioSimulators.education(settings: plan.settings)
                let agent = try Tutor.agent(observationDimension: EducationSimulator(configuration: settings).observationDimension,
                                            configuration: settings, hyperparameters: (plan.hyperparameters, "the run's hyperparameters"), seed: seed)
                let resuming = try load.flatMap { path throws(CheckpointError) in try agent.load(from: path) }
                let vector = VectorEnvironment((0..<Tutor.learners).map { _ in EducationSimulator(configuration: settings) })
                records = try agent.train(on: vector, steps: remaining(after: agent.environmentSteps), seed: seed,
                                          evaluationEnvironment: EducationSimulator(configuration: settings), evaluationInterval: evaluationInterval,
                                          evaluationEpisodes: evaluationEpisodes, evaluationSeed: 1 << 40,
                                          checkpoints: schedule(simulator: EducationSimulator(configuration: settings)),
                                          resuming: resuming, progress: report, stepProgress: bar.update)
            case .a2c:
                let vector = VectorEnvironment((0..<8).map { _ in CartPole() })
                let copy = vector.environments[0]
                let a2c = A2CAgent(observationSpace: copy.observationSpace, actionSpace: copy.actionSpace, environments: vector.count,
                                   configuration: try plan.configuration(A2CConfiguration()), seed: seed)
                let resuming = try load.flatMap { path throws(CheckpointError) in try a2c.load(from: path) }
                records = try a2c.train(on: vector, steps: remaining(after: a2c.environmentSteps), seed: seed,
                                        evaluationEnvironment: CartPole(), evaluationInterval: evaluationInterval,
                                        evaluationEpisodes: evaluationEpisodes, checkpoints: schedule(), resuming: resuming,
                                        progress: report, stepProgress: bar.update)
            case .sac where env == .ecommerce || env == .video, .td3 where env == .ecommerce || env == .video:
                // The simulator's users are drawn from the seed; evaluation users come from another range.
                let simulator = try ScenarioSimulators.slate(scenario!, settings: plan.settings,
                                                             historyTokens: stateEncoder == nil ? nil : SlateRanker.historyTokens)
                // On e-commerce the ranker also weighs what similar users clicked (ALS from the platform's logs).
                let collaborative = env == .ecommerce ? try ExistingUserModels(environment: simulator(), progress: say).als().model : nil
                let training = WeightedRankingEnvironment(simulator(), collaborative: collaborative)
                let learner = try SlateRanker.agent(agent.rawValue, for: training.simulator, builder: training.builder,
                                                    gamma: SlateRanker.gamma(for: scenario!), stateEncoder: stateEncoder,
                                                    hyperparameters: (plan.hyperparameters, "the run's hyperparameters"), seed: seed)
                let resuming = try load.flatMap { path throws(CheckpointError) in try learner.load(from: path) }
                records = try learner.train(on: training, steps: remaining(after: learner.environmentSteps), seed: seed, randomSteps: 1_000,
                                            evaluationEnvironment: WeightedRankingEnvironment(simulator(), collaborative: collaborative),
                                            evaluationInterval: evaluationInterval, evaluationEpisodes: evaluationEpisodes,
                                            evaluationSeed: 1 << 40,
                                            checkpoints: schedule(history: (training.simulator as? EcommerceSimulator)?.configuration.historyTokens,
                                                                  simulator: training.simulator),
                                            resuming: resuming, progress: report, stepProgress: bar.update)
            case .sac, .td3:
                let training = Pendulum(seed: seed)
                let learner: ContinuousControlAgent = agent == .sac
                    ? SACAgent(observationSpace: training.observationSpace, actionSpace: training.actionSpace,
                               configuration: try plan.configuration(SACConfiguration()), seed: seed)
                    : TD3Agent(observationSpace: training.observationSpace, actionSpace: training.actionSpace,
                               configuration: try plan.configuration(TD3Configuration()), seed: seed)
                let resuming = try load.flatMap { path throws(CheckpointError) in try learner.load(from: path) }
                records = try learner.train(on: training, steps: remaining(after: learner.environmentSteps), seed: seed,
                                            randomSteps: 100, evaluationEnvironment: Pendulum(), evaluationInterval: evaluationInterval,
                                            evaluationEpisodes: evaluationEpisodes, checkpoints: schedule(), resuming: resuming,
                                            progress: report, stepProgress: bar.update)
            }
            bar.finish()
            if let metricsError, let metrics { throw CommandFailure("--metrics \(metrics): writing failed: \(metricsError)") }
            if let savePath, !quiet {
                let size = (try? FileManager.default.attributesOfItem(atPath: savePath)[.size] as? Int) ?? nil
                let contents: CheckpointContents = saveState ? .trainingState : .policy
                if json {
                    print(JSONLine([("event", .string("saved")), ("out", .string(savePath)), ("contents", .string(contents.rawValue)),
                                    ("bytes", size.map { .int($0) } ?? .null)]).text)
                } else {
                    print("saved the \(saveState ? "training state" : "policy") to \(savePath)" + (size.map { " (\(byteCount($0)))" } ?? ""))
                }
            }
            if !json || quiet, let last = records.last { print("final evaluation return: \(last.meanReturn)") }
            if let path = self.report {
                do { try trainingReport(plan, records: records).write(to: path) } catch {
                    throw CommandFailure("--report \(path): writing failed: \(error)")
                }
            }
            if let saveBest, let savePath {
                // What the best checkpoint records: a resumed run's best may be from before it resumed.
                let metadata = (try? SafeTensors.describe(saveBest).metadata) ?? [:]
                if let value = metadata[CheckpointSchedule.bestReturnKey], let step = metadata[CheckpointSchedule.bestStepKey] {
                    print("kept the best evaluated agent (evaluation return \(value) at step \(step)) in \(saveBest); the last is in \(savePath)")
                }
            }
        } catch let error as CheckpointError {
            throw CommandFailure("\(error)")
        } catch let error as TrainingError {
            throw CommandFailure("\(error)")
        } catch let error as ScenarioError {
            throw commandLineError(error)
        }
    }
}
