// swift-tools-version:6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "CleverMessaging",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CleverMessaging", targets: ["CleverMessaging"]),
        .library(name: "CleverDrone", targets: ["CleverDrone"]),
        .library(name: "CleverNATS", targets: ["CleverNATS"]),
        .library(name: "CleverBridge", targets: ["CleverBridge"]),
        .executable(name: "clever-msg", targets: ["clever-msg"]),
        // The benches' workloads, for the allocation-counting benchmarks of `Benchmarks/`.
        .library(name: "CleverBench", targets: ["CleverBench"]),
        .executable(name: "clever-fuzz", targets: ["clever-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // Only the CLI's `/metrics` endpoint uses it; the library speaks swift-metrics alone.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "CleverMessaging",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // A NATS client on SwiftNIO (the text protocol, reconnect, TLS); it stands alone.
        .target(
            name: "CleverNATS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // A ground station's bridge onto NATS, and the fleet view across stations.
        .target(
            name: "CleverBridge",
            dependencies: [
                "CleverMessaging",
                "CleverNATS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CleverDrone",
            dependencies: [
                "CleverMessaging",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CleverBench",
            dependencies: [
                "CleverMessaging",
                // `bench fleet`: stations bridged onto a NATS server.
                "CleverNATS",
                "CleverBridge",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Throwaway certificates for `bench swarm --tls`.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                // `bench messages --metrics`: the cost of publishing to a Prometheus registry.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "clever-msg",
            dependencies: [
                "CleverMessaging",
                "CleverDrone",
                // `serve --nats`: the station joins a fleet; `fleet` and `demo --nats`: the fleet view across stations.
                "CleverNATS",
                "CleverBridge",
                "CleverBench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // `serve --metrics`: the Prometheus text endpoint.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "clever-fuzz",
            dependencies: [
                "CleverMessaging",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "StationAndDrone",
            dependencies: ["CleverMessaging"],
            path: "Examples/StationAndDrone",
            swiftSettings: strictSettings
        ),
        // What the test targets share (a real nats-server to test against, a seeded
        // generator). No product contains it: only the test targets depend on it.
        .target(
            name: "CleverTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CleverMessagingTests",
            dependencies: [
                "CleverMessaging",
                "CleverTestSupport",
                // The fleet view's tests run a fake station on a NATS client against real nats-server processes.
                "CleverBridge",
                "CleverNATS",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                // The console's parsing and formatting types are tested directly (@testable import clever_msg).
                "clever-msg",
                // The inputs libFuzzer found problems with replay through its harness (FuzzRegressionTests).
                "clever-fuzz",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                // Test certificates are made in-process (CleverBench's ThrowawayCertificates).
                "CleverBench",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CleverDroneTests",
            dependencies: ["CleverDrone", "CleverMessaging", "CleverTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CleverNATSTests",
            dependencies: [
                "CleverNATS",
                "CleverTestSupport",
                // The TLS test's certificates are made in-process (CleverBench's ThrowawayCertificates).
                "CleverBench",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CleverBridgeTests",
            dependencies: [
                "CleverBridge",
                "CleverTestSupport",
                "CleverMessaging",
                "CleverNATS",
                "CleverDrone",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
