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
        .library(name: "DRLServing", targets: ["DRLServing"]),
        .library(name: "DRLServer", targets: ["DRLServer"]),
        .executable(name: "drlrec", targets: ["drlrec"]),
    ],
    dependencies: [
        // The numerical, model and recommendation targets depend on no package. The command-line
        // tool uses argument-parser; the HTTP server (DRLServer) uses Hummingbird and the
        // ecosystem's logging and metrics.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
        // Deployment without the network: model registry, served models, user state, feedback log,
        // traffic split, guardrail and fallback.
        .target(name: "DRLServing", dependencies: ["DRLRecommend", "DRLNN", "DRLTensor"]),
        // The HTTP JSON server over DRLServing.
        .target(name: "DRLServer", dependencies: [
            "DRLServing",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // Process-wide allocation counting for `drlrec bench nn` (linked into the tool only).
        .target(name: "CAllocationCounter", path: "Sources/CAllocationCounter"),
        .executableTarget(
            name: "drlrec",
            dependencies: ["DRLTensor", "DRLNN", "DRLAgents", "DRLRecommend", "DRLServing", "DRLServer", "CBLASShim", "CAllocationCounter",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "DRLTensorTests", dependencies: ["DRLTensor", "CDRLKernels"]),
        // The tests' scratch directory, removed when the test process exits.
        .target(name: "ScratchFiles", path: "Tests/ScratchFiles"),
        // Fixtures: safetensors files written by Python's reference implementation (scripts/safetensors_interop.py).
        .testTarget(name: "DRLNNTests", dependencies: ["DRLNN", "ScratchFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DRLAgentsTests", dependencies: ["DRLAgents", "ScratchFiles"]),
        .testTarget(name: "DRLRecommendTests", dependencies: ["DRLRecommend", "ScratchFiles"]),
        // The registry, feedback log and traffic split, and the HTTP server over loopback.
        .testTarget(name: "DRLServingTests", dependencies: ["DRLServing", "DRLServer", "ScratchFiles", .product(name: "Logging", package: "swift-log")]),
    ]
)
