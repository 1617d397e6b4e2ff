import ArgumentParser
import DRLData
import DRLEvaluation
import DRLScenarios
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation

/// `drlrec loop`: the platform's closed loop on a simulator, day after day.
struct LoopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loop",
        abstract: "Run the closed loop on a simulated platform: serve, log, judge candidates off-policy, release, promote or roll back.",
        discussion: """
        Each day --users simulated users arrive and are served through the service `drlrec serve` runs \
        (in process, or with --http by `drlrec serve` processes on loopback), with exploration and an \
        impression log; their responses are posted as feedback naming the list and position they answer. A frozen copy of the first production version \
        (--production) serves --control-share of the users throughout (with --twin-control, twins of \
        them: the same simulated users, who the learning system serves as well). Each night the next --candidates \
        checkpoint is registered and judged by the off-policy gate (the lower bound of its --gate \
        estimate on the day's served lists must reach production's estimate, less --gate-margin of it); if it passes it serves \
        --candidate-share of the other users the next day under the guardrail, and the night after it \
        is promoted when its users' return per user is not below production's (with \
        --promotion-confidence, above it beyond doubt), and rolled back otherwise. --inject-bad-candidate DAY replaces that day's candidate by production's policy \
        inverted (a ranker's action negated, a tutor's logits negated). With --learn, a night without \
        a given candidate learns one from the served logs of the last --learning-window days, for \
        --learning-steps gradient steps: production's ranker (actor, critics, optimiser states) \
        trained further by its own agent's updates on the transitions the served lists make, or \
        production's tutor (education: one task per request) by off-policy actor-critic (V-trace) \
        on the learners' logged episodes, weighted by the logged propensities and held near production \
        by --policy-anchor. The report shows each \
        arm's return per user with a 95% interval and its reward per list, each candidate's off-policy estimate beside the reward per \
        list it realised, and every release, refusal, promotion and rollback.
        """
    )

    @Option(help: "Scenario: ecommerce, video or education.")
    var env: Scenario = .ecommerce

    @Option(parsing: .unconditional, help: "Days to run.")
    var days = 14

    @Option(parsing: .unconditional, help: "Simulated users per day.")
    var users = 300

    @Option(help: ArgumentHelp("The first production version (default: the agent `drlrec train --env ENV` saved; --learn starts from its training state, written with --save-state).", valueName: "checkpoint"))
    var production: String?

    @Option(parsing: .upToNextOption, help: ArgumentHelp("The candidates, one per night in order.", valueName: "checkpoint"))
    var candidates: [String] = []

    @Flag(help: "Each night without a given candidate, learn one from the served logs: production fine-tuned off-policy on the lists of the last --learning-window days.")
    var learn = false

    @Option(parsing: .unconditional, help: "Days of served lists a learnt candidate trains on.")
    var learningWindow = 3

    @Option(parsing: .unconditional, help: ArgumentHelp("Gradient steps of a learnt candidate: how far it may move from production (default: 500 for a ranker, 1000 for a tutor).", valueName: "steps"))
    var learningSteps: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --learn on education: gradient steps that train the tutor's critic alone on the logged rewards before --learning-steps train its actor and critic (default 2000).", valueName: "steps"))
    var criticWarmUp: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --learn on education: weight β of the tutor's divergence from production's policy, KL(production ‖ candidate) over the logged learners' states, in its loss: a soft freeze (default 1; 0: none, the gradient steps alone bound the move).", valueName: "beta"))
    var policyAnchor: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --learn: discount a served list by the time to the user's next one, γ per this many seconds (default: γ per list).", valueName: "seconds"))
    var discountTimeUnit: Double?

    @Option(name: .customLong("inject-bad-candidate"), parsing: .unconditional, help: ArgumentHelp("Replace the candidate released on this day by a broken one.", valueName: "day"))
    var badCandidateDay: Int?

    @Option(parsing: .unconditional, help: "Share of users the frozen first version serves (with --twin-control, the share that also get a frozen twin: the learning system serves every user either way).")
    var controlShare = 0.1

    @Flag(help: "The frozen version serves twins of the control users (the same simulated users, served by the learning system too), and the learning system's difference from it is paired over them.")
    var twinControl = false

    @Option(name: .customLong("holdback"), parsing: .unconditional,
            help: ArgumentHelp("Each night, roll production back to the version before it when the users it served since its promotion return less than the frozen version's beyond doubt at this confidence (an always-valid sequential test; paired over the twins with --twin-control). Off when not given.", valueName: "confidence"))
    var holdbackConfidence: Double?

    @Option(name: .customLong("promotion-confidence"), parsing: .unconditional,
            help: ArgumentHelp("Promote a released candidate the night after its day only when its users' mean return is above production's users' at this confidence (a one-sided test of the difference); 0.5, the default, promotes on the difference's sign.", valueName: "confidence"))
    var promotionConfidence = 0.5

    @Option(parsing: .unconditional, help: "A released candidate's share of the other users.")
    var candidateShare = 0.3

    @OptionGroup var exploration: ExplorationOptions

    @OptionGroup var rule: GateRuleOptions

    @Option(help: ArgumentHelp("Where the registries and logs go (must be new or empty).", valueName: "dir"))
    var directory = ".drlrec/loop"

    @Option(parsing: .unconditional, help: "Seed of the traffic and the exploration.")
    var seed: UInt64 = 0

    @Flag(help: "Serve the traffic through `drlrec serve` processes on loopback (their output in DIR/registry-serve.log and DIR/frozen-serve.log) instead of in this process. A server that stops is started again on its logs and the request that got no answer is sent again; the report says so.")
    var http = false

    @Flag(help: "Print one JSON object per day and arm (and the progress as JSON events).")
    var json = false

    @Flag(help: "Print no progress, only the results.")
    var quiet = false

    @Option(name: .customLong("report"), help: ArgumentHelp("Also write an HTML report here: each arm's return per user day by day, each candidate's off-policy estimate beside the value it realised, the releases, refusals, promotions and rollbacks, and the command.",
                                                          valueName: "file.html"))
    var htmlReport: String?

    func validate() throws {
        if let discountTimeUnit {
            guard discountTimeUnit > 0, discountTimeUnit.isFinite else { throw ValidationError("--discount-time-unit must be a positive number of seconds, got \(discountTimeUnit)") }
            guard learn else { throw ValidationError("--discount-time-unit applies to the candidates --learn trains") }
            guard env != .education else { throw ValidationError("--discount-time-unit applies to the rankers' learning; a tutor discounts once per task") }
        }
        if let criticWarmUp {
            guard env == .education, learn else { throw ValidationError("--critic-warm-up applies to the tutor --learn trains (--env education)") }
            guard criticWarmUp >= 0 else { throw ValidationError("--critic-warm-up \(criticWarmUp) must not be negative") }
        }
        if let policyAnchor {
            guard env == .education, learn else { throw ValidationError("--policy-anchor applies to the tutor --learn trains (--env education)") }
            guard policyAnchor >= 0, policyAnchor.isFinite else { throw ValidationError("--policy-anchor must be a non-negative number, got \(policyAnchor)") }
        }
        guard days >= 1, users >= 1, learningWindow >= 1, learningSteps ?? 1 >= 1 else {
            throw ValidationError("--days, --users, --learning-window and --learning-steps must be positive")
        }
        if let holdbackConfidence {
            guard holdbackConfidence > 0, holdbackConfidence < 1 else { throw ValidationError("--holdback must be a confidence in (0, 1), got \(holdbackConfidence)") }
            guard controlShare > 0 else { throw ValidationError("--holdback compares production with the frozen version: give it a --control-share") }
        }
        guard promotionConfidence >= 0.5, promotionConfidence < 1 else {
            throw ValidationError("--promotion-confidence must be in [0.5, 1), got \(promotionConfidence)")
        }
        guard controlShare >= 0, controlShare < 1, candidateShare > 0, candidateShare < 1 else {
            throw ValidationError("--control-share must be in [0, 1) and --candidate-share in (0, 1)")
        }
        if let day = badCandidateDay, !(2...max(days, 2)).contains(day) { throw ValidationError("--inject-bad-candidate \(day): candidates are released on days 2...\(days)") }
        for path in [production ?? env.defaultCheckpoint] + candidates where !FileManager.default.fileExists(atPath: path) {
            throw CommandFailure("no checkpoint at '\(path)'\(production == nil && path == env.defaultCheckpoint ? ": train one first (drlrec train --env \(env.rawValue))" : "")")
        }
        if let htmlReport { try requireWritableDirectory(of: htmlReport, option: "--report") }
    }

    func run() async throws {
        var configuration = ClosedLoop.Configuration(scenario: env, directory: directory, production: production ?? env.defaultCheckpoint,
                                                     reward: env.rewardMapping)
        configuration.candidates = candidates
        if learn && env == .education {
            var learning = TutorFineTuning()
            if let learningSteps { learning.settings.gradientSteps = learningSteps }
            if let criticWarmUp { learning.settings.criticWarmUpSteps = criticWarmUp }
            if let policyAnchor { learning.settings.anchorWeight = policyAnchor }
            learning.seed = seed
            configuration.learning = learning
        } else if learn {
            var learning = SlateRankerFineTuning(reward: configuration.reward)
            if let learningSteps { learning.gradientSteps = learningSteps }
            learning.discountTimeUnit = discountTimeUnit
            configuration.learning = learning
        }
        configuration.learningWindow = learningWindow
        configuration.days = days
        configuration.usersPerDay = users
        configuration.controlShare = controlShare
        configuration.twinControl = twinControl
        configuration.holdback = holdbackConfidence.map { Holdback(confidence: $0) }
        configuration.candidateShare = candidateShare
        configuration.promotion = Promotion(confidence: promotionConfidence)
        configuration.exploration = exploration.exploration
        configuration.gateEstimator = rule.gate
        configuration.gateMargin = rule.gateMargin
        configuration.gateRewardModel = rule.rewardModel
        configuration.gateSwitchThreshold = rule.switchThreshold
        configuration.badCandidateDay = badCandidateDay
        configuration.seed = seed
        if http {
            guard let executable = Bundle.main.executablePath else { throw CommandFailure("--http: cannot find the drlrec executable to run drlrec serve") }
            configuration.services = ServeProcesses(executable: executable, directory: directory)
        }
        let reports: [ClosedLoop.DayReport]
        let bar = ProgressBar("serving", unit: "users", total: days * users, mode: .of(json: json, quiet: quiet))
        do {
            reports = try await ClosedLoop(configuration).run(progress: bar.note, usersServed: bar.update)
        } catch { throw CommandFailure("\(error)") }
        bar.finish()
        var rows = [["day", "arm", "version", "users", "return/user", "95% CI", "reward/list", "estimate [CI]"]]
        for report in reports {
            for arm in report.arms {
                let estimate = arm.arm == "candidate" ? report.estimate.map { String(format: "%.3f [%.3f, %.3f]", $0.value, $0.low, $0.high) } ?? "" : ""
                rows.append([String(report.day), arm.arm, arm.version, String(arm.users), String(format: "%.3f", arm.meanReturn),
                             String(format: "[%.3f, %.3f]", arm.low, arm.high), String(format: "%.4f", arm.listValue), estimate])
                if json {
                    var fields: [(String, JSONLine.Value)] = [("day", .int(report.day)), ("arm", .string(arm.arm)), ("version", .string(arm.version)),
                                                              ("users", .int(arm.users)), ("return_per_user", .double(arm.meanReturn)),
                                                              ("ci_low", .double(arm.low)), ("ci_high", .double(arm.high)), ("reward_per_list", .double(arm.listValue))]
                    fields += arm.measures.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }
                    if arm.arm == "candidate", let estimate = report.estimate {
                        fields += [("estimate", .double(estimate.value)), ("estimate_low", .double(estimate.low)), ("estimate_high", .double(estimate.high))]
                    }
                    if arm.arm == "candidate", let realised = report.realised {
                        fields += [("realised", .double(realised.value)), ("realised_low", .double(realised.low)), ("realised_high", .double(realised.high))]
                    }
                    print(JSONLine(fields).text)
                }
            }
            if json { for event in report.events { print(JSONLine([("day", .int(report.day)), ("event", .string(event))]).text) } }
        }
        let check = ClosedLoop.estimateCheck(reports)
        // The learning system (production and candidates) against the frozen first version, over
        // the second half of the run, when the loop has had time to learn.
        let difference = ClosedLoop.learningAgainstFrozen(reports, from: days / 2 + 1)
        if let htmlReport {
            do { try loopReport(reports, check: check, difference: difference).write(to: htmlReport) } catch {
                throw CommandFailure("--report \(htmlReport): writing failed: \(error)")
            }
        }
        if json {
            var fields: [(String, JSONLine.Value)] = [("summary", .string(env.rawValue)), ("released", .int(check.judged)), ("covered", .int(check.covered)),
                                                      ("estimated_above", .int(check.above)), ("consistent", .int(check.consistent)),
                                                      ("from_day", .int(days / 2 + 1))]
            // What a rerun needs to give the same numbers: the same production bytes, OpenBLAS's
            // kernel and DRLRec's vector kernels (training rounds differently on others).
            if let hash = try? SHA256.hex(ofFile: configuration.production).digest { fields.append(("production_sha256", .string(hash))) }
            let engine = Engine.info
            fields += [("openblas_kernel", .string(engine.openBLASKernel)), ("vector_isa", .string(engine.vectorISA.name))]
            if let difference {
                fields += [("learning_return", .double(difference.learning)), ("frozen_return", .double(difference.frozen)),
                           ("difference", .double(difference.difference)), ("difference_low", .double(difference.low)), ("difference_high", .double(difference.high)),
                           ("paired", .bool(difference.paired))]
                for measure in difference.measures {
                    fields += [("\(measure.name)_difference", .double(measure.difference)), ("\(measure.name)_difference_low", .double(measure.low)),
                               ("\(measure.name)_difference_high", .double(measure.high))]
                }
            }
            print(JSONLine(fields).text)
            return
        }
        printColumns(rows)
        for report in reports { for event in report.events { print("day \(report.day): \(event)") } }
        if check.judged > 0 {
            print("off-policy \(rule.gate.rawValue): the interval covered the realised reward per list for \(check.covered) of \(check.judged) released candidates "
                  + "(estimated above it for \(check.above); within the two samples' combined error for \(check.consistent))")
        }
        if let difference, difference.paired {
            print(String(format: "days %d-%d: the same %d simulated users' return per user from production and candidates %.3f, from the frozen first version %.3f: difference %+.3f [%+.3f, %+.3f] (paired)",
                         days / 2 + 1, days, difference.learningUsers, difference.learning, difference.frozen,
                         difference.difference, difference.low, difference.high))
            for measure in difference.measures {
                print(String(format: "  %@ per user: %.3f against %.3f, difference %+.3f [%+.3f, %+.3f] (paired)", measure.name,
                             measure.learning, measure.frozen, measure.difference, measure.low, measure.high))
            }
        } else if let difference {
            print(String(format: "days %d-%d: return per user %.3f (production and candidates, %d users) against the frozen first version's %.3f (%d users): difference %+.3f [%+.3f, %+.3f]",
                         days / 2 + 1, days, difference.learning, difference.learningUsers, difference.frozen, difference.frozenUsers,
                         difference.difference, difference.low, difference.high))
        }
    }
}
