import DRLAgents
import DRLData
import DRLNN
import DRLScenarios
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct ScenarioCheckpointTests {
    /// An untrained video ranker saved with the labels `drlrec train` writes.
    static func savedVideoRanker(labels: [String: String], settings: VideoFeedConfiguration = VideoFeedConfiguration()) throws
        -> (path: String, agent: ContinuousControlAgent, simulator: VideoFeedSimulator) {
        let simulator = VideoFeedSimulator(configuration: settings)
        let builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal)
        let agent = try SlateRanker.agent("td3", for: simulator, builder: builder, gamma: SlateRanker.gamma(for: .video), seed: 3)
        let path = Scratch.path("ranker.safetensors")
        try agent.save(to: path, labels: labels)
        return (path, agent, simulator)
    }

    /// A policy-only checkpoint of a ranker that reads through a state encoder holds the encoder
    /// (kept with the critics, which train it) beside the actor: served from it, the ranker
    /// decides as from the whole training state, for a user with a click history; the loop's
    /// learner, which trains it further, refuses it.
    @Test func aPolicyFileServesTheRankerAndItsStateEncoder() throws {
        let simulator = try ScenarioSimulators.slate(.ecommerce, configuration: nil, historyTokens: SlateRanker.historyTokens)()
        // As `drlrec train` builds it: the ranker also weighs what similar users clicked.
        let builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal,
                                           collaborative: try ExistingUserModels(environment: simulator).als().model)
        let agent = try SlateRanker.agent("sac", for: simulator, builder: builder, gamma: SlateRanker.gamma(for: .ecommerce),
                                      stateEncoder: .attention, seed: 3)
        let history = try #require((simulator as? EcommerceSimulator)?.configuration.historyTokens)
        let labels = ScenarioCheckpoint.labels(scenario: .ecommerce, settings: ScenarioSimulators.settings(of: simulator),
                                               stateEncoder: (.attention, history))
        let policyPath = Scratch.path("policy.safetensors"), statePath = Scratch.path("state.safetensors")
        try agent.save(to: policyPath, labels: labels, contents: .policy)
        try agent.save(to: statePath, labels: labels)
        let names = try SafeTensors.describe(policyPath).tensors.map(\.name)
        #expect(names.contains { $0.hasPrefix("critic.encoder.") } && names.contains { $0.hasPrefix("actor.") })
        #expect(!names.contains { $0.hasPrefix("critic.q1.") || $0.hasPrefix("target.") || $0.contains("optimizer") || $0.hasPrefix("replay.") })
        #expect(try ScenarioCheckpoint(path: policyPath).contents == .policy && ScenarioCheckpoint(path: statePath).contents == .trainingState)

        let fromPolicy = try ServableSlateRanker.load(checkpoint: policyPath), fromState = try ServableSlateRanker.load(checkpoint: statePath)
        let clicks = (0..<6).map { UserEvent(item: Int32($0 * 7), event: .click, value: 1, timestamp: Int64($0)) }
        let context: [Float] = [1, 20.5, 0, 0, 2, 3, 1]  // device, hour, low frequency, cold start, segment, day, session step
        try #require(fromPolicy.contextProblem(context) == nil)
        let a = fromPolicy.decision(history: clicks, context: context), b = fromState.decision(history: clicks, context: context)
        #expect(a.observation.scalars == b.observation.scalars && a.action.scalars == b.action.scalars)
        // An agent of another seed decides otherwise until it loads the policy (from either
        // file), encoder included: the file made the difference.
        func greedy(_ agent: ContinuousControlAgent) -> [Float] {
            guard case .continuous(let action) = agent.act(a.observation, mode: .greedy) else { return [] }
            return action.scalars
        }
        let other = try SlateRanker.agent("sac", for: simulator, builder: builder, gamma: SlateRanker.gamma(for: .ecommerce), stateEncoder: .attention, seed: 4)
        #expect(greedy(other) != a.action.scalars && greedy(agent) == a.action.scalars)
        for path in [policyPath, statePath] {
            let loaded = try SlateRanker.agent("sac", for: simulator, builder: builder, gamma: SlateRanker.gamma(for: .ecommerce), stateEncoder: .attention, seed: 4)
            #expect(try loaded.loadPolicy(from: path) == (path == policyPath ? .policy : .trainingState))
            #expect(greedy(loaded) == a.action.scalars)
        }
        // Training cannot resume from the policy alone.
        #expect { try other.load(from: policyPath) } throws: { "\($0)".contains("holds only the agent's policy") }
        #expect(greedy(other) != a.action.scalars)
    }

    /// A ranker trained with other hyperparameters (narrower networks) is rebuilt from what its
    /// checkpoint records and served; recorded networks or a replay larger than the file holds
    /// (a hostile file asking for gigabytes) are refused before anything is built.
    @Test func recordedHyperparametersRebuildTheRankerAndMustFitTheFile() throws {
        let simulator = VideoFeedSimulator(configuration: VideoFeedConfiguration())
        let builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal)
        let agent = try SlateRanker.agent("sac", for: simulator, builder: builder, gamma: SlateRanker.gamma(for: .video),
                                          hyperparameters: (#"{"hidden_sizes": [24, 16], "buffer_size": 50}"#, "test"), seed: 3)
        let policy = Scratch.path("narrow.safetensors"), state = Scratch.path("narrow-state.safetensors")
        try agent.save(to: policy, labels: ScenarioCheckpoint.labels(scenario: .video), contents: .policy)
        try agent.save(to: state, labels: ScenarioCheckpoint.labels(scenario: .video))
        let served = try ServableSlateRanker.load(checkpoint: policy)
        let context: [Float] = [1, 18, 0, 2, 5]  // device, hour, low frequency, day, session minutes
        try #require(served.contextProblem(context) == nil, "\(served.contextColumns)")
        let decision = served.decision(history: [], context: context)
        guard case .continuous(let action) = agent.act(decision.observation, mode: .greedy) else { Issue.record("not continuous"); return }
        #expect(decision.action.scalars == action.scalars)

        func rewritten(_ path: String, _ edit: (inout [String: String]) -> Void) throws -> String {
            var (tensors, metadata) = try SafeTensors.read(from: path)
            edit(&metadata)
            let copy = Scratch.path("hostile.safetensors")
            try SafeTensors.write(tensors, metadata: metadata, to: copy)
            return copy
        }
        let key = AgentCheckpoint.hyperparametersKey
        let wide = try rewritten(policy) { $0[key] = $0[key]!.replacingOccurrences(of: "[24,16]", with: "[4096,4096,4096,4096,4096,4096,4096,4096]") }
        #expect { try ServableSlateRanker.load(checkpoint: wide) } throws: {
            "\($0)".contains("'hidden_sizes' [4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096] are not the widths of the policy's layers in the file ([24, 16])")
        }
        let huge = try rewritten(state) { $0[key] = $0[key]!.replacingOccurrences(of: #""buffer_size":50"#, with: #""buffer_size":100000000"#) }
        #expect { try ServableSlateRanker.load(checkpoint: huge) } throws: { "\($0)".contains("'buffer_size' 100000000 is not the replay's size in the file (50)") }
        let unknown = try rewritten(policy) { $0[key] = #"{"hidden_sizes": [24, 16], "layers": 9}"# }
        #expect { try ServableSlateRanker.load(checkpoint: unknown) } throws: { "\($0)".contains("unknown key 'layers'") }
    }

    @Test func theLabelsOfATrainingRunAreReadBack() throws {
        let (path, _, _) = try Self.savedVideoRanker(labels: ScenarioCheckpoint.labels(scenario: .video))
        let checkpoint = try ScenarioCheckpoint(path: path)
        #expect(checkpoint.agentKind == "td3")
        #expect(checkpoint.scenario == .video)
        #expect(checkpoint.stateEncoder == nil)

        let labels = ScenarioCheckpoint.labels(scenario: .ecommerce, settings: "{}", stateEncoder: (.gru, 12))
        #expect(labels == ["drlrec.scenario": "ecommerce", "drlrec.state_encoder": "gru", "drlrec.history_tokens": "12",
                           "drlrec.settings": "{}", "drlrec.model": "slate-ranker"])
    }

    /// A checkpoint records the simulator's settings in full, and a ranker is served on the
    /// catalogue they rebuild; only a slate scenario's ranker is served as one.
    @Test func settingsAreRecordedAndRebuildTheServedRankersCatalogue() throws {
        var settings = VideoFeedConfiguration()
        settings.items = 321
        let text = try #require(ScenarioSimulators.settings(of: VideoFeedSimulator(configuration: settings)))
        let (path, _, _) = try Self.savedVideoRanker(labels: ScenarioCheckpoint.labels(scenario: .video, settings: text), settings: settings)
        #expect(try ScenarioCheckpoint(path: path).settings == text)
        let served = try #require(try ServableModelKinds.drlrec.load(checkpoint: path) as? ServableSlateRanker)
        #expect(served.itemIds.count == 321 && served.contextColumns == VideoObservedUser.contextColumns)
        let (education, _, _) = try Self.savedVideoRanker(labels: ScenarioCheckpoint.labels(scenario: .education), settings: settings)
        #expect { try ServableSlateRanker.load(checkpoint: education) } throws: {
            "\($0)".contains("a served slate ranker is trained on ecommerce or video; the file's scenario is education")
        }
    }

    /// Settings a hostile or careless file claims are refused before anything is built from them
    /// when the checkpoint's networks do not fit them (a catalogue of a million items, say).
    @Test func settingsTheNetworksDoNotFitAreRefusedBeforeBuilding() throws {
        let text = try #require(ScenarioSimulators.settings(of: VideoFeedSimulator(configuration: VideoFeedConfiguration())))
            .replacingOccurrences(of: #""dimension":16"#, with: #""dimension":1024"#)
            .replacingOccurrences(of: #""items":5000"#, with: #""items":1000000"#)
        #expect(text.contains(#""items":1000000"#) && text.contains(#""dimension":1024"#))
        let (path, _, _) = try Self.savedVideoRanker(labels: ScenarioCheckpoint.labels(scenario: .video, settings: text))
        #expect { try ServableSlateRanker.load(checkpoint: path) } throws: {
            "\($0)".contains("the observation of these settings ('dimension') give 2058, but the checkpoint's 'actor.0.weight' has 42")
        }
    }

    @Test(arguments: [
        (["drlrec.scenario": "mars"], "metadata 'drlrec.scenario' is 'mars', not one of ecommerce, video, education"),
        (["drlrec.scenario": "ecommerce", "drlrec.state_encoder": "gru"], "come together; the file has only one of them"),
        (["drlrec.scenario": "ecommerce", "drlrec.state_encoder": "lstm", "drlrec.history_tokens": "10"], "'drlrec.state_encoder' is 'lstm'"),
        (["drlrec.scenario": "ecommerce", "drlrec.state_encoder": "gru", "drlrec.history_tokens": "99999999999"], "not a history length in 1...4096"),
    ])
    func malformedLabelsAreRefusedWithTheKey(labels: [String: String], message: String) throws {
        let (path, _, _) = try Self.savedVideoRanker(labels: labels)
        #expect { try ScenarioCheckpoint(path: path) } throws: { "\($0)".contains(message) && "\($0)".contains(path) }
    }

    @Test func aFileThatIsNoAgentCheckpointIsRefused() throws {
        let path = Scratch.path("model.safetensors")
        try SafeTensors.write([("w", Tensor(zeros: Shape(2)))], metadata: ["drlrec.model": "next-item"], to: path)
        #expect { try ScenarioCheckpoint(path: path) } throws: { "\($0)".contains("'drlrec.agent' is missing") }
    }

    /// The catalogue rebuilds the ranker from the file alone: its slates are the in-memory agent's.
    @Test func aCheckpointLoadsAsThePolicyThatWroteIt() throws {
        let (path, agent, simulator) = try Self.savedVideoRanker(labels: ScenarioCheckpoint.labels(scenario: .video))
        let loaded = try PolicyCatalogue(scenario: .video).slatePolicy(path, for: simulator)
        #expect(loaded.name == "td3 (\(path))")
        let original = WeightedRankingPolicy(name: "original", agent: agent, environment: simulator)
        var observation = Tensor(zeros: Shape(simulator.observationSpace.dimension))
        var expected = [Int32](repeating: 0, count: simulator.slateSize), found = expected
        for seed in UInt64(0)..<5 {
            simulator.reset(seed: seed, observation: &observation)
            original.recommend(simulator, observation: observation, into: &expected)
            loaded.recommend(simulator, observation: observation, into: &found)
            #expect(found == expected)
        }
    }

    @Test func aCheckpointOfAnotherScenarioOrAgentIsRefused() throws {
        let (path, _, simulator) = try Self.savedVideoRanker(labels: ScenarioCheckpoint.labels(scenario: .ecommerce))
        #expect { try PolicyCatalogue(scenario: .video).slatePolicy(path, for: simulator) } throws: {
            "\($0)" == "\(path) holds an agent trained on ecommerce (`drlrec train --env ecommerce`); it does not run on video"
        }
        let education = EducationSimulator(configuration: EducationConfiguration())
        #expect { try PolicyCatalogue(scenario: .education).taskPolicy(path, for: education) } throws: {
            "\($0)" == "\(path) holds a 'td3' agent; this A/B test needs one written by `drlrec train --env education` (a2c)"
        }
        #expect { try PolicyCatalogue(scenario: .video).slatePolicy("nonesuch", for: simulator) } throws: {
            "\($0)" == "'nonesuch' is neither a policy nor a checkpoint file"
        }
        #expect { try PolicyCatalogue(scenario: .video).slatePolicy(Scenario.video.defaultCheckpoint, for: simulator) } throws: {
            "\($0)".hasSuffix("train one first with `drlrec train --env video`")
        }
    }
}
