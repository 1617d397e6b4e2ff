import ArgumentParser
import DRLTensor

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the OpenBLAS version, kernel and threads, and DRLRec's vector kernels."
    )

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() {
        let info = Engine.info
        if json {
            print(JSONLine([
                ("openblas", .string(info.openBLASConfig)),
                ("kernel", .string(info.openBLASKernel)),
                ("kernel_selection", .string(info.kernelSelection.description)),
                ("generic_kernel", .bool(info.isGenericKernel)),
                ("threads", .int(info.threads)),
                ("openblas_threads", .int(info.openBLASThreads)),
                ("vector_isa", .string(info.vectorISA.description)),
            ]).text)
        } else {
            print(info)
        }
    }
}
