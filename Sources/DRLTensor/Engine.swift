import CBLASShim
import CDRLKernels
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide configuration of the numerical engine: thread count and the OpenBLAS kernel.
///
/// The engine configures itself on first use: it switches OpenBLAS to the fastest kernel the CPU
/// can run (Debian's OpenBLAS 0.3.21 falls back to a generic kernel on CPUs newer than it knows)
/// and takes its thread count from `DRLREC_NUM_THREADS`, else the number of cores. A user-set
/// `OPENBLAS_CORETYPE` is always respected. To make the switch happen at a moment of your choosing
/// (it must not overlap BLAS calls from other libraries), call `Engine.configure()` first thing.
/// Executables can instead call `Engine.relaunchWithFastKernelIfNeeded()` first thing in `main`,
/// which restarts the process with `OPENBLAS_CORETYPE` set so that OpenBLAS picks the kernel while
/// it loads (the way the variable is meant to be used).
public enum Engine {
    /// Environment variable read for the default thread count of DRLRec's kernels and OpenBLAS.
    public static let threadsVariable = "DRLREC_NUM_THREADS"
    /// Environment variable that runs DRLRec's vector kernels at a lower instruction set than the
    /// CPU's (`VectorISA.name`: portable, avx2, avx512), read once. The AVX2 and AVX-512 variants
    /// compute the same bits (a training run then depends only on OpenBLAS's kernel,
    /// `OPENBLAS_CORETYPE`); the portable one, without fused multiply-adds, rounds otherwise.
    public static let vectorISAVariable = "DRLREC_VECTOR_ISA"
    /// Set by `relaunchWithFastKernelIfNeeded` in the restarted process, so `info` can say who chose.
    static let relaunchMarkerVariable = "DRLREC_OPENBLAS_CORETYPE_CHOSEN"

    private static let threads = Atomic<Int>(0)
    private static let selection = Mutex<KernelSelection?>(nil)

    /// One-time set-up, run by the first caller; concurrent first callers wait for it.
    private static let bootstrap: Void = {
        _ = selectFastKernel()
        applyThreadCount(defaultThreadCount())
    }()

    /// Number of threads used by DRLRec's kernels and by OpenBLAS (at least 1).
    @inlinable
    public static var threadCount: Int {
        ensureConfigured()
        return currentThreads()
    }

    @usableFromInline
    static func ensureConfigured() { _ = bootstrap }

    @usableFromInline
    static func currentThreads() -> Int { threads.load(ordering: .relaxed) }

    /// Sets the thread count for DRLRec's kernels and for OpenBLAS. Do not call it while another
    /// thread is inside a DRLRec or BLAS call.
    public static func setThreadCount(_ count: Int) {
        require(count >= 1, "thread count must be at least 1, got \(count)")
        ensureConfigured()
        applyThreadCount(count)
    }

    /// DRLRec's pool runs `count` threads; OpenBLAS always runs one, since `gemm` splits large
    /// products over the pool itself.
    private static func applyThreadCount(_ count: Int) {
        openblas_set_num_threads(1)
        threads.store(count, ordering: .relaxed)
    }

    private static func defaultThreadCount() -> Int {
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        guard let text = getenv(threadsVariable).map({ String(cString: $0) }) else { return cores }
        if let n = Int(text), n >= 1 { return n }
        writeStandardError("drlrec: ignoring \(threadsVariable)=\(text): expected a positive integer\n")
        return cores
    }

    /// Configures the engine now rather than on first use, optionally with a thread count, and
    /// returns what it runs on. One line at start-up: `Engine.configure()`.
    @discardableResult
    public static func configure(threads count: Int? = nil) -> EngineInfo {
        ensureConfigured()
        if let count { applyThreadCount(count) }
        return info
    }

    /// Restarts the current executable with `OPENBLAS_CORETYPE` set when the loaded OpenBLAS kernel
    /// is slower than one the CPU can run. Returns only when no restart is needed or possible (then
    /// it falls back to switching the kernel in-process). Call it first thing in `main`.
    public static func relaunchWithFastKernelIfNeeded() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let target = OpenBLASKernel.upgradeTarget() else {
            ensureConfigured()
            return
        }
        setenv("OPENBLAS_CORETYPE", target, 1)
        setenv(relaunchMarkerVariable, OpenBLASKernel.loadedName(), 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: no restart possible here. Switch in-process instead.
        unsetenv(relaunchMarkerVariable)
        unsetenv("OPENBLAS_CORETYPE")
        ensureConfigured()
    }

    /// One core's peak fp32 rate in GFLOP/s, measured with a loop of independent vector FMAs for
    /// about `milliseconds` (the best of five runs): the roofline for GEMM figures. Nil on CPUs
    /// without AVX2 or AVX-512.
    public static func measurePeakGFLOPS(milliseconds: Double = 100) -> Double? {
        var best = 0.0
        var iterations = 100_000
        for _ in 0..<5 {
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            let flop = drl_fma_loop(iterations)
            clock_gettime(CLOCK_MONOTONIC, &end)
            guard flop > 0 else { return nil }
            let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
            best = max(best, flop / seconds / 1e9)
            iterations = max(1, Int(Double(iterations) * milliseconds / 5 / 1000 / max(seconds, 1e-6)))
        }
        return best
    }

    /// Chooses the OpenBLAS kernel once per process and records how it was chosen.
    static func selectFastKernel() -> KernelSelection {
        selection.withLock { chosen in
            if let chosen { return chosen }
            let loaded = OpenBLASKernel.loadedName()
            let result: KernelSelection
            if let requested = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }) {
                if let previous = getenv(relaunchMarkerVariable).map({ String(cString: $0) }) {
                    result = .relaunched(from: previous, to: loaded)
                } else {
                    result = .environment(requested)
                }
            } else if let target = OpenBLASKernel.upgradeTarget() {
                if drl_openblas_reload_kernel(target) == 0 {
                    result = .switchedInProcess(from: loaded, to: OpenBLASKernel.loadedName())
                } else {
                    result = .unavailable(loaded: loaded, wanted: target)
                }
            } else {
                result = .chosenByOpenBLAS(loaded)
            }
            chosen = result
            return result
        }
    }

    /// What the engine runs on: OpenBLAS build and kernel, threads, and DRLRec's kernel ISA.
    public static var info: EngineInfo {
        EngineInfo(
            openBLASConfig: String(cString: openblas_get_config()),
            openBLASKernel: OpenBLASKernel.loadedName(),
            kernelSelection: selectFastKernel(),
            threads: threadCount,
            openBLASThreads: Int(openblas_get_num_threads()),
            vectorISA: VectorISA(rawValue: Int(drl_kernel_isa())) ?? .portable,
            cpuSupportsAVX512: drl_cpu_has_avx512_core() != 0,
            cpuSupportsAVX2: drl_cpu_has_avx2_fma() != 0,
            gemmDepthBlock: GemmDepthSchedule.detected?.depth
        )
    }
}

func writeStandardError(_ message: String) {
    var text = message
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// How the OpenBLAS kernel in use was chosen.
public enum KernelSelection: Sendable, Equatable, CustomStringConvertible {
    /// OpenBLAS's own detection picked a kernel that already uses the CPU's widest vectors.
    case chosenByOpenBLAS(String)
    /// The user set OPENBLAS_CORETYPE; DRLRec leaves it alone.
    case environment(String)
    /// The process was restarted with OPENBLAS_CORETYPE set (executables).
    case relaunched(from: String, to: String)
    /// OpenBLAS was re-initialised in this process with a faster kernel (libraries).
    case switchedInProcess(from: String, to: String)
    /// A faster kernel exists but this OpenBLAS build cannot switch at run time.
    case unavailable(loaded: String, wanted: String)

    public var description: String {
        switch self {
        case .chosenByOpenBLAS(let name): return "\(name), detected by OpenBLAS"
        case .environment(let name): return "OPENBLAS_CORETYPE=\(name) from the environment"
        case .relaunched(let from, let to): return "\(to), selected by DRLRec at launch (OpenBLAS detected \(from))"
        case .switchedInProcess(let from, let to): return "\(to), switched in-process by DRLRec (OpenBLAS detected \(from))"
        case .unavailable(let loaded, let wanted):
            return "\(loaded); \(wanted) would be faster but this OpenBLAS cannot switch kernels (set OPENBLAS_CORETYPE=\(wanted))"
        }
    }
}

/// Instruction set of DRLRec's own vector kernels.
public enum VectorISA: Int, Sendable, CustomStringConvertible {
    case portable = 0, avx2 = 1, avx512 = 2
    public var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "AVX2+FMA"
        case .avx512: return "AVX-512"
        }
    }

    /// The name `Engine.vectorISAVariable` takes for it.
    public var name: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }
}

/// A snapshot of the engine configuration (`drlrec info`).
public struct EngineInfo: Sendable, CustomStringConvertible {
    public let openBLASConfig: String
    public let openBLASKernel: String
    public let kernelSelection: KernelSelection
    public let threads: Int
    public let openBLASThreads: Int
    public let vectorISA: VectorISA
    public let cpuSupportsAVX512: Bool
    public let cpuSupportsAVX2: Bool
    /// The block of the inner dimension in which weight gradients are computed in small-matrix
    /// calls with the bits of one call, or nil when they are one call (`GemmDepthSchedule`).
    public let gemmDepthBlock: Int?

    /// The widest vector kernels the CPU runs.
    public var cpuISA: VectorISA { cpuSupportsAVX512 ? .avx512 : cpuSupportsAVX2 ? .avx2 : .portable }

    /// True when the OpenBLAS kernel is Debian's generic fallback or otherwise narrower than the CPU.
    public var isGenericKernel: Bool { OpenBLASKernel.upgradeTarget(loaded: openBLASKernel) != nil }

    public var description: String {
        """
        OpenBLAS          \(openBLASConfig)
        BLAS kernel       \(kernelSelection)
        threads           \(threads) (set with \(Engine.threadsVariable) or Engine.setThreadCount)
        OpenBLAS threads  \(openBLASThreads) (DRLRec splits large GEMMs over its own threads)
        vector kernels    \(vectorISA)\(vectorISA == cpuISA ? "" : " (set with \(Engine.vectorISAVariable); the CPU runs \(cpuISA))")
        weight gradients  \(gemmDepthBlock.map { "small-matrix calls in OpenBLAS's blocks of \($0) rows (the bits of one call)" } ?? "one OpenBLAS call per thread")
        CPU               AVX-512: \(cpuSupportsAVX512 ? "yes" : "no"), AVX2+FMA: \(cpuSupportsAVX2 ? "yes" : "no")
        """
    }
}

/// OpenBLAS kernel names and the choice of a faster one.
enum OpenBLASKernel {
    static let avx512Kernels: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    static let avx2Kernels: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]

    static func loadedName() -> String { String(cString: openblas_get_corename()) }

    /// Whether the loaded kernel has OpenBLAS's AVX-512 small-matrix GEMM kernels (read once the
    /// engine has chosen its kernel).
    static let hasSmallMatrixKernels: Bool = {
        Engine.ensureConfigured()
        return avx512Kernels.contains(loadedName().lowercased())
    }()

    /// The kernel to switch to, or nil when the loaded one already uses the CPU's widest vectors.
    /// Only kernels whose instructions the CPU (and OS) support are ever proposed.
    static func upgradeTarget(loaded: String = loadedName()) -> String? {
        let name = loaded.lowercased()
        if drl_cpu_has_avx512_core() != 0 { return avx512Kernels.contains(name) ? nil : "SkylakeX" }
        if drl_cpu_has_avx2_fma() != 0 { return avx2Kernels.contains(name) ? nil : "Haswell" }
        return nil
    }
}
