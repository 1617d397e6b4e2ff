import ArgumentParser
import DRLTensor

@main
struct DRLRecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drlrec",
        abstract: "Deep reinforcement learning for recommendation: engine, benchmarks, training.",
        version: DRLRecVersion.current,
        subcommands: [InfoCommand.self, BenchCommand.self, TrainCommand.self, ABTestCommand.self, DataCommand.self, EvaluateCommand.self, OPECommand.self, LoopCommand.self,
                      FitCommand.self, RegistryCommand.self, ServeCommand.self, UpdateCommand.self, CompressCommand.self]
    )

    static func main() async {
        // OpenBLAS reads OPENBLAS_CORETYPE only while it loads: restart once with it set when the
        // kernel it picked by itself is slower than one this CPU can run.
        Engine.relaunchWithFastKernelIfNeeded()
        await main(nil)
    }
}
