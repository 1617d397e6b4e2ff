import Foundation

/// The progress of a command that trains a ranker epoch by epoch (fit, update): after each epoch
/// a line on standard error with the loss, the validation NDCG@10 and the time left at most
/// (early stopping may end the run sooner), or with --json the same as a progress event on
/// standard output, or nothing with --quiet.
struct EpochProgress {
    let task: String, epochs: Int, mode: ProgressBar.Mode
    private let start = Sampler.now()

    init(_ task: String, epochs: Int, json: Bool, quiet: Bool) {
        (self.task, self.epochs, self.mode) = (task, epochs, .of(json: json, quiet: quiet))
    }

    /// Reports `epoch` and returns the seconds since the start.
    @discardableResult
    func report(epoch: Int, loss: Float, ndcg: Double?) -> Double {
        let elapsed = Sampler.now() - start, left = elapsed / Double(epoch) * Double(max(epochs - epoch, 0))
        switch mode {
        case .silent: break
        case .json:
            print(JSONLine([("event", .string("progress")), ("task", .string(task)), ("done", .int(epoch)), ("total", .int(epochs)),
                            ("unit", .string("epochs")), ("cross_entropy", .double(Double(loss))),
                            ("validation_ndcg_at_10", ndcg.map { .double($0) } ?? .null),
                            ("seconds", .double(elapsed.rounded())), ("seconds_left_at_most", .double(left.rounded()))]).text)
        case .terminal, .lines:
            say(String(format: "  epoch %d of at most %d: cross-entropy %.3f (%.0f s, at most %.0f s left)", epoch, epochs, loss, elapsed, left)
                + (ndcg.map { String(format: ", validation NDCG@10 %.4f", $0) } ?? ""))
        }
        return elapsed
    }
}
