// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "AsyncWorker",
    // What the library uses (Atomic, Mutex, task executors, clocks) needs these releases; nothing needs the
    // 26 releases. Linux: glibc and musl.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "AsyncWorker", targets: ["AsyncWorker"])
    ],
    targets: [
        .target(name: "AsyncWorker"),
        .testTarget(
            name: "AsyncWorkerTests",
            dependencies: ["AsyncWorker", "PipelineDemoCore", "main-thread-checks"]
        ),
        // Scenarios that need a real main thread; `MainThreadHardeningTests` runs them as processes.
        .executableTarget(name: "main-thread-checks", dependencies: ["AsyncWorker"], path: "Tests/MainThreadChecks"),
        .executableTarget(name: "blocking-call", dependencies: ["AsyncWorker"], path: "Examples/BlockingCall"),
        .executableTarget(name: "fire-and-forget", dependencies: ["AsyncWorker"], path: "Examples/FireAndForget"),
        .executableTarget(name: "cancel-demo", dependencies: ["AsyncWorker"], path: "Examples/CancelDemo"),
        .executableTarget(
            name: "pipeline-demo",
            dependencies: ["AsyncWorker", "PipelineDemoCore"],
            path: "Examples/PipelineDemo",
            exclude: ["Core"]
        ),
        .target(name: "PipelineDemoCore", dependencies: ["AsyncWorker"], path: "Examples/PipelineDemo/Core"),
        .executableTarget(
            name: "async-worker-bench",
            dependencies: ["AsyncWorker"],
            path: "Benchmarks/AsyncWorkerBench"
        ),
        .executableTarget(name: "async-worker-soak", dependencies: ["AsyncWorker"], path: "Benchmarks/Soak"),
    ],
    swiftLanguageModes: [.v6]
)
