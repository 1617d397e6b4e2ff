import DRLAgents
import DRLReport
import Foundation

/// `drlrec train --report`: the learning curves and the configuration of the run.
extension TrainCommand {
    func trainingReport(_ plan: Plan, records: [EvaluationRecord]) -> HTMLReport {
        var report = HTMLReport.ofThisCommand("drlrec train: \(plan.agent.rawValue) on \(plan.env.rawValue), seed \(plan.seed)")
        let evaluation = records.map { (x: Double($0.step), y: Double($0.meanReturn)) }
        let training = records.compactMap { record in record.recentTrainingReturn.map { (x: Double(record.step), y: Double($0)) } }
        report.blocks.append(.heading("Learning curves"))
        report.blocks.append(.chart(LineChart(
            id: "learning-curve", title: "The greedy policy's mean return over \(plan.evaluationEpisodes) evaluation episodes, and the mean return of the last ten training episodes, at each evaluation",
            xLabel: "environment steps", yLabel: "return",
            series: [.init(name: "evaluation", points: evaluation), .init(name: "training (last 10)", points: training)])))
        let losses = records.compactMap { record in record.loss.map { (x: Double(record.step), y: Double($0)) } }
        if !losses.isEmpty {
            report.blocks.append(.chart(LineChart(id: "loss", title: "The latest training loss at each evaluation",
                                                  xLabel: "environment steps", yLabel: "loss", series: [.init(name: "loss", points: losses)])))
        }
        report.blocks.append(.heading("Evaluations"))
        report.blocks.append(.table(["step", "evaluation return", "training episodes", "recent training return", "loss"], records.map {
            [String($0.step), String(format: "%.2f", $0.meanReturn), String($0.trainingEpisodes),
             $0.recentTrainingReturn.map { String(format: "%.2f", $0) } ?? "–", $0.loss.map { String(format: "%.4g", $0) } ?? "–"]
        }))
        report.blocks.append(.heading("Configuration"))
        report.blocks.append(.code(caption: "The run (metadata 'drlrec.run' of its checkpoints)", text: plan.record.text))
        report.blocks.append(.code(caption: "The agent's hyperparameters (metadata 'drlrec.hyperparameters'; --agent-config takes this file)",
                                   text: plan.hyperparameters))
        switch plan.settings {
        case .file(let path)?:
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(unreadable)"
            report.blocks.append(.code(caption: "The simulator's settings (--config \(path))", text: text))
        case .text(let text, let origin)?:
            report.blocks.append(.code(caption: "The simulator's settings (\(origin))", text: text))
        case nil:
            if plan.scenario != nil { report.blocks.append(.paragraph("The simulator ran with its default settings.")) }
        }
        return report
    }
}
