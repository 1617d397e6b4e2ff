import DRLTensor
import DRLWorkloads

/// The measurements behind `drlrec bench core`, on DRLWorkloads' products and kernels: each one is
/// the median over `samples` timed samples, and a product's Tensor-level and direct-cblas samples
/// alternate so that both see the same machine state.
struct CoreBenchmarks {
    let sampler: Sampler

    /// All measurements at the engine's current thread count; `peak` is one core's FMA peak.
    func runAll(peak: Double?) -> [BenchResult] {
        let threads = Engine.threadCount
        var results = ProductWorkload.gemmShapes.map { product(.matmul(m: $0.m, k: $0.k, n: $0.n, directThreads: threads)) }
        results.append(contentsOf: BlockedProduct.all.map { product(.blocked($0, directThreads: threads)) })
        if let peak {
            for i in results.indices { results[i].peakFraction = results[i].value / (peak * Double(threads)) }
        }
        results.append(contentsOf: KernelWorkloads().all.map(kernel))
        return results
    }

    func product(_ workload: ProductWorkload) -> BenchResult {
        let (tensorTime, directTime) = sampler.interleaved(workload.viaTensor, workload.direct)
        return BenchResult(name: workload.name, value: workload.flop / tensorTime / 1e9, unit: "GFLOP/s",
                           rawGFLOPS: workload.flop / directTime / 1e9)
    }

    func kernel(_ workload: KernelWorkload) -> BenchResult {
        let time = sampler.median(workload.step)
        return BenchResult(name: workload.name, value: time * 1e3, unit: "ms", gelemPerSecond: Double(workload.elements) / time / 1e9)
    }
}
