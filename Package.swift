// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swiftnst",
    products: [
        // The shared library that Python loads with ctypes; its ABI is Sources/CSwiftNST/include/swiftnst.h.
        .library(name: "swiftnst", type: .dynamic, targets: ["CBridge"]),
        .library(name: "NSTEngine", targets: ["NSTEngine"]),
    ],
    targets: [
        // MARK: - System libraries and C headers
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Header-only target: the C ABI's single source of truth, imported by CBridge and mirrored by Python.
        .target(name: "CSwiftNST"),

        // MARK: - Swift modules
        .target(name: "NSTEngine", dependencies: ["COpenBLAS"]),
        .target(name: "CBridge", dependencies: ["NSTEngine", "CSwiftNST"]),

        // MARK: - Benchmarks (bench/README.md)
        .executableTarget(name: "LayerBench", dependencies: ["NSTEngine"], path: "bench/layers"),

        // MARK: - Tests
        .testTarget(name: "NSTEngineTests", dependencies: ["NSTEngine"]),
        .testTarget(name: "CBridgeTests", dependencies: ["CBridge", "CSwiftNST", "NSTEngine"]),
    ]
)
