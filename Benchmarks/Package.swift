// swift-tools-version: 6.2
// Benchmarks for DRLRec, run with `swift package benchmark` from this directory (see README.md).
// A separate package so that the root package does not depend on ordo-one/benchmark.
import PackageDescription

let package = Package(
    name: "DRLRecBenchmarks",
    platforms: [.macOS("26.0")],
    dependencies: [
        .package(name: "DRLRec", path: ".."),
        // Only the MallocInterposer trait: it gives the malloc metrics and leaves out the default
        // RuntimeInterposer trait, whose swift-runtime-interposer dependency (Linux, Swift 6.3) we
        // do not need (no ARC metrics are measured).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The BenchmarkPlugin finds benchmark targets by their directory: <package>/Benchmarks/<Target>,
        // which for this nested package is Benchmarks/CoreBenchmarks.
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "DRLTensor", package: "DRLRec"),
                .product(name: "DRLWorkloads", package: "DRLRec"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "CoreBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        .executableTarget(
            name: "NNBenchmarks",
            dependencies: [
                .product(name: "DRLTensor", package: "DRLRec"),
                .product(name: "DRLWorkloads", package: "DRLRec"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "NNBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ]
)
