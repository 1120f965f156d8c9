// swift-tools-version:6.0
import PackageDescription

// SWIFTNST_WHEEL_LIBRARY=1 (set by setup.py when it builds a wheel): libswiftnst.so carries the Swift
// runtime and Dispatch itself (`-static-stdlib`; SwiftPM's `--static-swift-stdlib` only applies to
// executables), so it runs where no Swift toolchain is installed, and is stripped of its symbol table
// and debug information (12 MB -> 7 MB; the exported C functions stay). The engine does not use
// Foundation, whose static form (with ICU) would add about 55 MB to each library.
let wheelLibrary: [LinkerSetting] = Context.environment["SWIFTNST_WHEEL_LIBRARY"] == "1"
    ? [.unsafeFlags(["-static-stdlib", "-Xlinker", "--strip-all"], .when(platforms: [.linux]))] : []

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
        .target(name: "CBridge", dependencies: ["NSTEngine", "CSwiftNST"], linkerSettings: wheelLibrary),

        // MARK: - Benchmarks (bench/README.md)
        .target(name: "BenchSupport", path: "bench/support"),
        .executableTarget(name: "LayerBench", dependencies: ["NSTEngine", "BenchSupport"], path: "bench/layers"),
        .executableTarget(name: "StepBench", dependencies: ["NSTEngine", "BenchSupport"], path: "bench/step"),

        // MARK: - Tests
        .testTarget(name: "NSTEngineTests", dependencies: ["NSTEngine"]),
        .testTarget(name: "CBridgeTests", dependencies: ["CBridge", "CSwiftNST", "NSTEngine"]),
    ]
)
