// swift-tools-version:6.1
// Allocation and CPU counts of the library's hot paths, with ordo-one/benchmark
// (its malloc interposer counts every allocation in the process, on every thread).
// Run from this folder: `swift package benchmark` (CI does not build this package).
import PackageDescription

let package = Package(
    name: "CleverMessagingBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "CleverMessaging", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "MessagingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CleverBench", package: "CleverMessaging"),
            ],
            path: "Benchmarks/MessagingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
