// swift-tools-version: 6.2
import PackageDescription

// DRLRec's libraries. They depend on no other package: a package that depends on them resolves
// nothing else. The command-line tool and the HTTP server, which use swift-argument-parser,
// Hummingbird and the ecosystem's logging and metrics, are the nested package in App/.
let package = Package(
    name: "DRLRec",
    // Shape keeps its dimensions in an InlineArray (Swift 6.2), which Apple's platforms have from 26.
    platforms: [.macOS("26.0")],
    products: [
        .library(name: "DRLTensor", targets: ["DRLTensor"]),
        .library(name: "DRLNN", targets: ["DRLNN"]),
        .library(name: "DRLAgents", targets: ["DRLAgents"]),
        .library(name: "DRLData", targets: ["DRLData"]),
        .library(name: "DRLEvaluation", targets: ["DRLEvaluation"]),
        .library(name: "DRLDistributed", targets: ["DRLDistributed"]),
        .library(name: "DRLRanking", targets: ["DRLRanking"]),
        .library(name: "DRLSimulation", targets: ["DRLSimulation"]),
        .library(name: "DRLServing", targets: ["DRLServing"]),
        .library(name: "DRLScenarios", targets: ["DRLScenarios"]),
        // The benchmark workloads, for `drlrec bench` and the Benchmarks/ package.
        .library(name: "DRLWorkloads", targets: ["DRLWorkloads"]),
        // Test support shared with App/'s tests: one scratch directory per test process.
        .library(name: "ScratchFiles", targets: ["ScratchFiles"]),
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
        // Logged interactions: feedback kinds, the logged-interactions format, public datasets
        // (MovieLens, Open Bandit), synthetic logs, the sparse interaction matrix, splits.
        .target(name: "DRLData", dependencies: ["DRLTensor"]),
        // Measuring recommenders: ranking metrics, off-policy estimators and their reward models,
        // paired bootstrap intervals, population comparisons.
        .target(name: "DRLEvaluation", dependencies: ["DRLData", "DRLNN", "DRLTensor"]),
        // Recommendation models fitted on logs: the next-item model (its checkpoint and
        // compression), implicit ALS, k-means.
        .target(name: "DRLDistributed"),
        .target(name: "DRLRanking", dependencies: ["DRLData", "DRLDistributed", "DRLEvaluation", "DRLNN", "DRLTensor"]),
        // Recommendation as an MDP: the simulated platforms, reward design, platform constraints,
        // the baseline policies and the list-wise ranking action.
        .target(name: "DRLSimulation", dependencies: ["DRLAgents", "DRLData", "DRLEvaluation", "DRLRanking", "DRLNN", "DRLTensor"]),
        // The recipes of the scenarios: each scenario's agent and simulators, the existing users'
        // models, policies by name or from a checkpoint's own labels, the A/B runner and the
        // MovieLens evaluation protocol, the servable form of the e-commerce ranker. What `drlrec`
        // runs, as a library.
        .target(name: "DRLScenarios", dependencies: ["DRLSimulation", "DRLServing", "DRLAgents", "DRLData", "DRLEvaluation", "DRLRanking", "DRLNN", "DRLTensor"]),
        // Deployment without the network: model registry, served models, user state, feedback log,
        // traffic split, guardrail and fallback, the replay of served logs for a model and the
        // off-policy gate on it. It knows data and models, not simulators or agents.
        .target(name: "DRLServing", dependencies: ["DRLData", "DRLEvaluation", "DRLRanking", "DRLNN", "DRLTensor"]),
        // The benchmark workloads, each built once with its model and data, and the step to time:
        // GEMM shapes and blocked products (with a direct cblas_sgemm call to compare), kernels,
        // the NN peer workloads and the agents' training loops. Their clients do the timing.
        .target(name: "DRLWorkloads", dependencies: ["CBLASShim", "DRLAgents", "DRLNN", "DRLTensor"]),
        .testTarget(name: "DRLTensorTests", dependencies: ["DRLTensor", "CDRLKernels"]),
        // The tests' scratch directory, removed when the test process exits.
        .target(name: "ScratchFiles", path: "Tests/ScratchFiles"),
        // Fixtures: safetensors files written by Python's reference implementation (scripts/safetensors_interop.py).
        .testTarget(name: "DRLNNTests", dependencies: ["DRLNN", "DRLTensor", "ScratchFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DRLAgentsTests", dependencies: ["DRLAgents", "DRLNN", "DRLTensor", "ScratchFiles"]),
        .testTarget(name: "DRLScenariosTests", dependencies: ["DRLScenarios", "DRLServing", "DRLSimulation", "DRLAgents", "DRLData", "DRLEvaluation", "DRLNN", "DRLTensor", "ScratchFiles"]),
        // Fixtures: a zip of made-up data in GroupLens' MovieLens layout, written by Python's zipfile.
        .testTarget(name: "DRLDataTests", dependencies: ["DRLData", "ScratchFiles"], resources: [.copy("Fixtures")]),
        // Fixtures: obp 0.4.1's estimates and their inputs (scripts/obp_crosscheck.py).
        .testTarget(name: "DRLEvaluationTests", dependencies: ["DRLEvaluation", "DRLData", "DRLNN", "DRLTensor", "ScratchFiles"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DRLRankingTests", dependencies: ["DRLRanking", "DRLDistributed", "DRLEvaluation", "DRLData", "DRLNN", "DRLTensor", "ScratchFiles"]),
        .testTarget(name: "DRLSimulationTests", dependencies: ["DRLSimulation", "DRLAgents", "DRLData", "DRLEvaluation", "DRLRanking", "DRLNN", "DRLTensor", "ScratchFiles"]),
    ]
)
