import CDRLKernels
@testable import DRLTensor
import Testing

@Suite struct EngineTests {
    @Test func reportsAKernelThatUsesTheWidestVectorsTheCPUHas() {
        let info = Engine.configure()
        #expect(!info.openBLASConfig.isEmpty && !info.openBLASKernel.isEmpty)
        #expect(info.threads >= 1 && info.openBLASThreads >= 1)
        #expect(!info.isGenericKernel, "OpenBLAS runs \(info.openBLASKernel) (\(info.kernelSelection))")
        if info.cpuSupportsAVX512 {
            #expect(OpenBLASKernel.avx512Kernels.contains(info.openBLASKernel.lowercased()))
            #expect(info.vectorISA == .avx512)
        }
        #expect(info.description.contains("BLAS kernel"))
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
