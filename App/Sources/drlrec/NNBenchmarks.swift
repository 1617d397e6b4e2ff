import CAllocationCounter
import DRLWorkloads

/// `drlrec bench nn`: DRLWorkloads' NN workloads, timed with the sampler, with the heap
/// allocations of a steady-state step.
struct NNBenchmarks {
    let sampler: Sampler

    /// The workloads' names, in the order they run.
    static let names = NNWorkload.Kind.allCases.map(\.rawValue)

    /// The workloads, at the engine's current thread count.
    func run(_ selected: [NNWorkload.Kind]) -> [BenchResult] {
        selected.map { measure(NNWorkload($0)) }
    }

    /// Median time per step, samples per second, and heap allocations per steady-state step.
    func measure(_ workload: NNWorkload) -> BenchResult {
        let seconds = sampler.median(workload.step)
        let steps = 20
        let before = drl_allocation_count()
        for _ in 0..<steps { workload.step() }
        let after = drl_allocation_count()
        let allocations: Double? = before == UInt.max ? nil : Double(after - before) / Double(steps)
        return BenchResult(name: workload.name, value: seconds * 1e3, unit: "ms", samplesPerSecond: Double(workload.batch) / seconds,
                           allocationsPerStep: allocations)
    }
}
