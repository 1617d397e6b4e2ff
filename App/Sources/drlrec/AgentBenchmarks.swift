import CAllocationCounter
import DRLWorkloads

/// `drlrec bench agents`: DRLWorkloads' agent workloads, each built and warmed up, then timed over
/// one run with its heap allocations per unit (environment step or update).
enum AgentBenchmarks {
    static func measure(_ workload: AgentWorkload) throws -> BenchResult {
        let before = drl_allocation_count()
        let start = Sampler.now()
        let units = try workload.run()
        let seconds = Sampler.now() - start
        let allocations = drl_allocation_count() - before
        return BenchResult(name: workload.name, value: Double(units) / seconds, unit: "\(workload.unit)/s",
                           allocationsPerStep: before == UInt.max ? nil : Double(allocations) / Double(max(units, 1)))
    }
}
