// swift-tools-version: 6.2
// Coverage-guided fuzzing of DRLRec's parsers of untrusted input with libFuzzer (`make fuzz`, see
// docs/FUZZING.md). A separate package so that the sanitizer flags of a fuzzing build reach only
// what it builds.
import PackageDescription

let package = Package(
    name: "DRLRecFuzz",
    platforms: [.macOS("26.0")],
    dependencies: [
        .package(name: "DRLRec", path: ".."),
        .package(name: "DRLRecApp", path: "../App"),
    ],
    targets: [
        // What each fuzz target does with one input: the parsers and loaders a hostile file or
        // request reaches, and the properties their results must have.
        .target(name: "FuzzTargets", dependencies: [
            .product(name: "DRLAgents", package: "DRLRec"),
            .product(name: "DRLData", package: "DRLRec"),
            .product(name: "DRLNN", package: "DRLRec"),
            .product(name: "DRLRanking", package: "DRLRec"),
            .product(name: "DRLServing", package: "DRLRec"),
            .product(name: "DRLSimulation", package: "DRLRec"),
            .product(name: "DRLScenarios", package: "DRLRec"),
            .product(name: "DRLTensor", package: "DRLRec"),
            .product(name: "DRLRequestDecoding", package: "DRLRecApp"),
        ]),
        // libFuzzer's entry point when built with -sanitize=fuzzer (and -D DRLREC_LIBFUZZER);
        // otherwise a replayer of corpus files: `drlrec-fuzz TARGET FILE|DIR...`.
        .executableTarget(name: "drlrec-fuzz", dependencies: ["FuzzTargets"]),
    ]
)
