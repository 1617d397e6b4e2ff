// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "DRLRec",
    platforms: [.macOS("26.0")],
    products: [
        .library(name: "DRLTensor", targets: ["DRLTensor"]),
        .library(name: "DRLNN", targets: ["DRLNN"]),
        .library(name: "DRLAgents", targets: ["DRLAgents"]),
        .library(name: "DRLRecommend", targets: ["DRLRecommend"]),
        .executable(name: "drlrec", targets: ["drlrec"]),
    ],
    dependencies: [
        // Used by the command-line tool only; the library targets depend on no package.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS (cblas.h) and LAPACKE (lapacke.h) from Debian's libopenblas-dev and liblapacke-dev.
        .systemLibrary(
            name: "CBLASShim",
            path: "CBLASShim",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]
        ),
        // Vectorised float kernels with AVX-512 / AVX2 variants chosen at run time (no compiler flags).
        .target(name: "CDRLKernels", path: "Sources/CDRLKernels"),
        .target(name: "DRLTensor", dependencies: ["CBLASShim", "CDRLKernels"]),
        .target(name: "DRLNN", dependencies: ["DRLTensor"]),
        .target(name: "DRLAgents", dependencies: ["DRLNN", "DRLTensor"]),
        // Recommendation as an MDP: reward design, simulators, state encoding, baselines.
        .target(name: "DRLRecommend", dependencies: ["DRLAgents", "DRLNN", "DRLTensor"]),
        // Process-wide allocation counting for `drlrec bench nn` (linked into the tool only).
        .target(name: "CAllocationCounter", path: "Sources/CAllocationCounter"),
        .executableTarget(
            name: "drlrec",
            dependencies: ["DRLTensor", "DRLNN", "DRLAgents", "DRLRecommend", "CBLASShim", "CAllocationCounter",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "DRLTensorTests", dependencies: ["DRLTensor", "CDRLKernels"]),
        // Fixtures: safetensors files written by Python's reference implementation (scripts/safetensors_interop.py).
        .testTarget(name: "DRLNNTests", dependencies: ["DRLNN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DRLAgentsTests", dependencies: ["DRLAgents"]),
        .testTarget(name: "DRLRecommendTests", dependencies: ["DRLRecommend"]),
    ]
)
