// swift-tools-version: 6.2
import PackageDescription

// DRLRec used the way a project of yours would use it: by path here, by URL in yours, through its
// library products only. `swift run -c release examples` prints what each example does;
// `swift test -c release` checks it (the test command of the repository runs both).
let package = Package(
    name: "DRLRecExamples",
    platforms: [.macOS("26.0")],
    dependencies: [.package(name: "DRLRec", path: "..")],
    targets: [
        .target(name: "Walkthrough", dependencies: [
            .product(name: "DRLTensor", package: "DRLRec"),
            .product(name: "DRLNN", package: "DRLRec"),
            .product(name: "DRLAgents", package: "DRLRec"),
            .product(name: "DRLSimulation", package: "DRLRec"),
            .product(name: "DRLData", package: "DRLRec"),
            .product(name: "DRLRanking", package: "DRLRec"),
            .product(name: "DRLServing", package: "DRLRec"),
        ]),
        .executableTarget(name: "examples", dependencies: ["Walkthrough"]),
        .testTarget(name: "WalkthroughTests", dependencies: [
            "Walkthrough",
            .product(name: "DRLTensor", package: "DRLRec"),
        ]),
    ]
)
