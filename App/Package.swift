// swift-tools-version: 6.2
import PackageDescription

// The `drlrec` command-line tool and the HTTP server over DRLRec's libraries (the package one
// folder up, by path). A package of its own so that the libraries depend on no other package.
let package = Package(
    name: "DRLRecApp",
    platforms: [.macOS("26.0")],
    products: [
        .executable(name: "drlrec", targets: ["drlrec"]),
        .library(name: "DRLServer", targets: ["DRLServer"]),
        .library(name: "DRLRequestDecoding", targets: ["DRLRequestDecoding"]),
    ],
    dependencies: [
        .package(name: "DRLRec", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        // The HTTP API's request bodies: each route's decoder over DRLNN's strict JSON parser (no
        // networking, so that they can be fuzzed on their own).
        .target(name: "DRLRequestDecoding", dependencies: [
            .product(name: "DRLServing", package: "DRLRec"),
            .product(name: "DRLData", package: "DRLRec"),
            .product(name: "DRLNN", package: "DRLRec"),
        ]),
        // The HTTP JSON server over DRLServing.
        .target(name: "DRLServer", dependencies: [
            "DRLRequestDecoding",
            .product(name: "DRLServing", package: "DRLRec"),
            .product(name: "DRLData", package: "DRLRec"),
            .product(name: "DRLNN", package: "DRLRec"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // Self-contained HTML reports with inline SVG charts (`--report`); no dependency.
        .target(name: "DRLReport"),
        // Process-wide allocation counting for `drlrec bench nn` (linked into the tool only).
        .target(name: "CAllocationCounter", path: "Sources/CAllocationCounter"),
        .executableTarget(
            name: "drlrec",
            dependencies: [
                "DRLServer", "DRLReport", "CAllocationCounter",
                .product(name: "DRLTensor", package: "DRLRec"),
                .product(name: "DRLNN", package: "DRLRec"),
                .product(name: "DRLAgents", package: "DRLRec"),
                .product(name: "DRLData", package: "DRLRec"),
                .product(name: "DRLEvaluation", package: "DRLRec"),
                .product(name: "DRLDistributed", package: "DRLRec"),
                .product(name: "DRLRanking", package: "DRLRec"),
                .product(name: "DRLSimulation", package: "DRLRec"),
                .product(name: "DRLServing", package: "DRLRec"),
                .product(name: "DRLScenarios", package: "DRLRec"),
                .product(name: "DRLWorkloads", package: "DRLRec"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The registry, feedback log, guardrail and traffic split, and the HTTP server over loopback
        // (serving a next-item model and the e-commerce ranker `drlrec train` writes).
        .testTarget(name: "DRLServingTests", dependencies: [
            "DRLServer", "DRLRequestDecoding", "DRLReport",
            .product(name: "DRLServing", package: "DRLRec"),
            .product(name: "DRLScenarios", package: "DRLRec"),
            .product(name: "DRLSimulation", package: "DRLRec"),
            .product(name: "DRLData", package: "DRLRec"),
            .product(name: "DRLRanking", package: "DRLRec"),
            .product(name: "DRLEvaluation", package: "DRLRec"),
            .product(name: "DRLNN", package: "DRLRec"),
            .product(name: "DRLTensor", package: "DRLRec"),
            .product(name: "ScratchFiles", package: "DRLRec"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
