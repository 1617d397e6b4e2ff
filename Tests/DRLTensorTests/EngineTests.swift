import CDRLKernels
@testable import DRLTensor
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct EngineTests {
    /// The widest kernel the CPU runs, unless the user chose one with OPENBLAS_CORETYPE: that one
    /// is respected (a machine may set it for everything it runs, as this project's do).
    @Test func reportsAKernelThatUsesTheWidestVectorsTheCPUHas() {
        let info = Engine.configure()
        #expect(!info.openBLASConfig.isEmpty && !info.openBLASKernel.isEmpty)
        #expect(info.threads >= 1 && info.openBLASThreads >= 1)
        #expect(info.description.contains("BLAS kernel"))
        if let requested = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }), getenv(Engine.relaunchMarkerVariable) == nil {
            #expect(info.kernelSelection == .environment(requested))
            #expect(info.openBLASKernel.lowercased() == requested.lowercased(), "asked for \(requested), OpenBLAS runs \(info.openBLASKernel)")
            return
        }
        #expect(!info.isGenericKernel, "OpenBLAS runs \(info.openBLASKernel) (\(info.kernelSelection))")
        if info.cpuSupportsAVX512 {
            #expect(OpenBLASKernel.avx512Kernels.contains(info.openBLASKernel.lowercased()))
            #expect(info.vectorISA == .avx512)
        }
    }

    /// OpenBLAS's driver takes whole blocks of K while two or more remain, then halves the rest
    /// (rounded up to the unroll); the schedule of this machine's kernel is found, and a wrong
    /// one fails the probe.
    @Test func depthScheduleCutsTheInnerDimensionAsOpenBLASsDriverDoes() {
        let schedule = GemmDepthSchedule(depth: 320, unroll: 16)
        var blocks: [Int] = [], remaining = 1000
        while remaining > 0 {
            blocks.append(schedule.block(remaining: remaining))
            remaining -= blocks.last!
        }
        #expect(blocks == [320, 320, 192, 168])
        #expect(schedule.block(remaining: 640) == 320 && schedule.block(remaining: 321) == 160 && schedule.block(remaining: 7) == 7)
        Engine.ensureConfigured()
        if OpenBLASKernel.hasSmallMatrixKernels {
            let detected = GemmDepthSchedule.detected
            #expect(detected != nil, "no schedule matches OpenBLAS \(OpenBLASKernel.loadedName())")
            if let detected {
                #expect(GemmDepthSchedule(depth: detected.depth * 2, unroll: detected.unroll).matchesOneCall() == false)
                #expect(GemmDepthSchedule(depth: detected.depth - 64, unroll: detected.unroll).matchesOneCall() == false)
            }
            #expect(Engine.configure().description.contains("weight gradients  small-matrix calls"))
        }
    }

    @Test func upgradeTargetsAreOnlyKernelsTheCPUCanRun() {
        let generic = OpenBLASKernel.upgradeTarget(loaded: "Prescott")
        if drl_cpu_has_avx512_core() != 0 {
            #expect(generic == "SkylakeX")
            #expect(OpenBLASKernel.upgradeTarget(loaded: "Haswell") == "SkylakeX")
            #expect(OpenBLASKernel.upgradeTarget(loaded: "Cooperlake") == nil)
        } else if drl_cpu_has_avx2_fma() != 0 {
            #expect(generic == "Haswell")
            #expect(OpenBLASKernel.upgradeTarget(loaded: "Zen") == nil)
        } else {
            #expect(generic == nil)
        }
        #expect(OpenBLASKernel.upgradeTarget(loaded: "SkylakeX") == nil)
    }

    @Test func kernelSelectionDescriptionsSayWhoChose() {
        #expect(KernelSelection.relaunched(from: "Prescott", to: "SkylakeX").description.contains("Prescott"))
        #expect(KernelSelection.environment("Haswell").description.contains("OPENBLAS_CORETYPE=Haswell"))
        #expect(KernelSelection.unavailable(loaded: "Prescott", wanted: "SkylakeX").description.contains("set OPENBLAS_CORETYPE=SkylakeX"))
    }
}
