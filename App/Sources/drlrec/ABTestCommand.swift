import DRLEvaluation
import DRLScenarios
import DRLSimulation
import ArgumentParser
import Foundation

struct ABTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abtest",
        abstract: "Compare two recommenders on the same simulated users, with bootstrap confidence intervals.",
        discussion: """
        Control and treatment each serve the same --users users (user u is seeded with --seed + u in \
        both arms). For every metric the table shows both arms, the difference (treatment − control), \
        the relative change and a 95% paired-bootstrap interval of the difference over users. \
        On ecommerce a policy is random, popularity, myopic (the greedy content-based recommender), \
        mmr (its diversified form), linucb (a contextual bandit learning online), als (implicit matrix \
        factorisation fitted on the logged clicks of the platform's 3,000 existing users), deep-ranker \
        (an attention state encoder trained on those users' click sequences to predict the next click) or a checkpoint \
        written by `drlrec train --env ecommerce`; --cold-start-transfer gives the treatment's users who \
        arrive without history the profiles of their likely user groups, learned from those logs. On video \
        the same baselines or a checkpoint of `drlrec train --env video`; on \
        education it is random, fixed (one level and content type), staircase (the adaptive k-up one-down \
        rule), myopic (the easiest tasks) or a checkpoint written by `drlrec train --env education`; \
        fixed and staircase are tuned first, by --tune-by (the return), on 1,000 learners of their own (seeds from 2^40), \
        and fixed:LEVEL:TYPE and staircase:UP:START:TYPE (TYPE video, exercise or article) name one setting. \
        Given --treatment more than once (the same recipe trained with different --seed values), each \
        treatment is compared with the control on the same users, and a last table gives the mean \
        difference over the treatments, its spread across them and an interval over both the users and \
        the training seeds (scripts/multiseed_abtest.sh trains the seeds and runs it).
        """
    )

    @Option(help: "Scenario: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var env: Scenario = .ecommerce

    @Option(help: "Control policy (default: the strongest baseline: als on ecommerce, linucb on video, staircase on education).")
    var control: String?

    @Option(help: ArgumentHelp("Treatment policy or checkpoint (default: the agent `drlrec train --env ENV` saved); repeat it for one checkpoint per training seed.", valueName: "policy|path"))
    var treatment: [String] = []

    @Option(help: ArgumentHelp("Simulator settings (the file given to `drlrec train --config`).", valueName: "path"))
    var config: String?

    @Option(parsing: .unconditional, help: "Simulated users per arm.")
    var users: Int = 2_000

    @Flag(inversion: .prefixedNo, help: "On ecommerce (the default there): start the treatment's users who arrive without history from the profiles of their likely user groups.")
    var coldStartTransfer: Bool?

    @Option(parsing: .unconditional, help: "On ecommerce: user groups for cold-start transfer.")
    var groups: Int = 32

    @Option(parsing: .unconditional, help: "Seed of the population (user u gets seed + u).")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Bootstrap resamples.")
    var resamples: Int = 1_000

    @Option(help: ArgumentHelp("On education: the metric the fixed and staircase tutors are tuned by (\(EducationReport.metricNames.joined(separator: ", "))).", valueName: "metric"))
    var tuneBy = TutorTuning().objective

    @Option(help: ArgumentHelp("Also write an HTML report here: each metric's effect with its interval, the seeds' spread with several treatments, the tables and the command.",
                               valueName: "file.html"))
    var report: String?

    @Flag(help: "Print one JSON object per metric (and the progress as JSON events).")
    var json = false

    @Flag(help: "Print no progress, only the results.")
    var quiet = false

    func validate() throws {
        guard users >= 2 else { throw ValidationError("--users must be at least 2, got \(users)") }
        guard resamples >= 100 else { throw ValidationError("--resamples must be at least 100, got \(resamples)") }
        guard (1...ExistingUserModels.users).contains(groups) else {
            throw ValidationError("--groups must be in 1...\(ExistingUserModels.users) (the existing users), got \(groups)")
        }
        guard EducationReport.metricNames.contains(tuneBy) else {
            throw ValidationError("--tune-by \(tuneBy) is not one of \(EducationReport.metricNames.joined(separator: ", "))")
        }
        if let report { try requireWritableDirectory(of: report, option: "--report") }
        guard coldStartTransfer != true || env == .ecommerce else { throw ValidationError("--cold-start-transfer applies to --env ecommerce, whose users have demographics") }
    }

    func run() throws {
        var test = ABTest(scenario: env)
        test.control = control
        test.treatments = treatment
        test.configuration = config
        test.users = users
        test.coldStartTransfer = coldStartTransfer
        test.groups = groups
        test.seed = seed
        test.resamples = resamples
        test.tuning.objective = tuneBy
        let result: ABTest.Result
        // One progress bar per arm, under the line that names it.
        var bar: ProgressBar?, barArm = ""
        let mode = ProgressBar.Mode.of(json: json, quiet: quiet)
        do {
            result = try test.run(progress: { line in
                guard !quiet else { return }
                bar?.finish()
                say(line)
            }, armProgress: { arm, done, total in
                if bar == nil || barArm != arm || done == 1 { (bar, barArm) = (ProgressBar("simulating \(arm)", unit: "users", total: total, mode: mode), arm) }
                bar!.update(done)
            })
        } catch { throw commandLineError(error) }
        bar?.finish()
        for (rows, name) in zip(result.rows, result.treatments) { printTable(rows, control: result.control, treatment: name) }
        if let across = result.acrossSeeds { printAcrossSeeds(across, control: result.control, treatments: result.treatments) }
        if let report {
            do { try abTestReport(result).write(to: report) } catch { throw CommandFailure("--report \(report): writing failed: \(error)") }
        }
    }

    private func printAcrossSeeds(_ rows: [SeedComparison], control: String, treatments: [String]) {
        if json {
            for row in rows {
                print(JSONLine([
                    ("metric", .string(row.metric)), ("control", .float(row.control)), ("mean_diff", .float(row.meanDifference)),
                    ("seed_spread", .float(row.seedSpread)), ("ci_low", .float(row.ciLow)), ("ci_high", .float(row.ciHigh)),
                    ("significant", .bool(row.isSignificant)), ("consistent", .bool(row.isConsistent)),
                    ("diffs", .string(row.differences.map { String($0) }.joined(separator: " "))),
                    ("control_policy", .string(control)), ("treatments", .int(treatments.count)), ("users", .int(users)),
                ]).text)
            }
            return
        }
        print("")
        print("\(env.rawValue): the \(treatments.count) treatments against control \(control) on the same \(users) users; " +
              "interval over users and training seeds (95%)")
        var table = [["metric", "control", "mean diff", "spread", "95% CI of mean diff", "per seed", ""]]
        for row in rows {
            table.append([row.metric, format(row.control), format(row.meanDifference), format(row.seedSpread),
                          "[\(format(row.ciLow)), \(format(row.ciHigh))]", row.differences.map(format).joined(separator: " "),
                          row.isSignificant ? (row.isConsistent ? "*" : "*?") : ""])
        }
        printColumns(table)
        print("* the interval excludes 0 (?: a seed's difference has the other sign)")
    }

    private func printTable(_ rows: [MetricComparison], control: String, treatment: String) {
        if json {
            for row in rows {
                print(JSONLine([
                    ("metric", .string(row.metric)), ("control", .float(row.control)), ("treatment", .float(row.treatment)),
                    ("diff", .float(row.difference)), ("relative_change", row.relativeChange.map { .float($0) } ?? .null),
                    ("ci_low", .float(row.ciLow)), ("ci_high", .float(row.ciHigh)), ("significant", .bool(row.isSignificant)),
                    ("control_policy", .string(control)), ("treatment_policy", .string(treatment)), ("users", .int(users)),
                ]).text)
            }
            return
        }
        print("\(env.rawValue): control \(control), treatment \(treatment), \(users) paired users, 95% bootstrap intervals")
        let header = ["metric", "control", "treatment", "diff", "change", "95% CI of diff", ""]
        var table = [header]
        for row in rows {
            table.append([row.metric, format(row.control), format(row.treatment), format(row.difference),
                          row.relativeChange.map { String(format: "%+.1f%%", 100 * $0) } ?? "-",
                          "[\(format(row.ciLow)), \(format(row.ciHigh))]", row.isSignificant ? "*" : ""])
        }
        printColumns(table)
        print("* the interval excludes 0")
    }

    func format(_ value: Float) -> String { String(format: abs(value) >= 10 ? "%.2f" : "%.4f", value) }
}
