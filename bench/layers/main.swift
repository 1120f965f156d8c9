// Times the engine's 3×3 convolution kernels one layer at a time: the forward pass with its fused ReLU and
// the input gradient through the ReLU, the minimum over --reps calls each. For changes too small to see
// through the host's drift in whole evaluations (bench/README.md, "Noise"): build two checkouts, run them
// in turns a few times, and compare the minima, keeping a layer the change does not touch as the control.
//
//     OPENBLAS_CORETYPE=SkylakeX swift run -c release -Xswiftc -target-cpu -Xswiftc skylake-avx512 \
//         LayerBench [--size 256] [--reps 30] [--threads 2] [--kernel winograd|im2col]
//
// The shapes are VGG-19's distinct conv layers for a --size square image (planes of 4 px and more).
// OPENBLAS_CORETYPE must be set by hand here: `import swiftnst` sets it in Python, and without it
// Debian's OpenBLAS 0.3.21 runs generic kernels on CPUs newer than itself (the first line tells which).

import Foundation
import NSTEngine

struct Options {
    var size = 256
    var reps = 30
    var threads = 2
    var kernel = "winograd"

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { Self.fail("\(flag) needs a value") }
            switch flag {
            case "--size": size = Self.integer(flag, value)
            case "--reps": reps = Self.integer(flag, value)
            case "--threads": threads = Self.integer(flag, value)
            case "--kernel" where value == "winograd" || value == "im2col": kernel = value
            default: Self.fail("unknown option \(flag) \(value); see the comment at the top of bench/layers/main.swift")
            }
        }
        guard size >= 4, reps >= 1, threads >= 1 else { Self.fail("--size >= 4, --reps >= 1, --threads >= 1") }
    }

    static func integer(_ flag: String, _ value: String) -> Int {
        guard let number = Int(value) else { fail("\(flag) takes an integer, got \(value)") }
        return number
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write("LayerBench: \(message)\n".data(using: .utf8)!)
        exit(2)
    }
}

/// (in channels, out channels, plane side) of each distinct conv layer up to conv5_1.
func vgg19Shapes(size: Int) -> [(Int, Int, Int)] {
    let blocks = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512)]
    let sides = [size, size, size / 2, size / 2, size / 4, size / 4, size / 8, size / 8, size / 16]
    return zip(blocks, sides).map { ($0.0, $0.1, $1) }.filter { $0.2 >= 4 }
}

/// SplitMix64: the data only has to look like activations and weights; the system generator made the
/// setup slower than the timing.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
Parallel.threadCount = options.threads
print("BLAS: \(BLAS.description); \(options.threads) threads; \(options.kernel); min of \(options.reps) calls")
print("| in → out | plane | forward+ReLU ms | GFLOP/s | input gradient ms | GFLOP/s |")
print("|---|---:|---:|---:|---:|---:|")
var rng = SplitMix64(state: 1)
for (inChannels, outChannels, side) in vgg19Shapes(size: options.size) {
    let scale = (2 / Float(9 * inChannels)).squareRoot()
    let parameters = try Conv3x3Parameters(
        weight: (0..<(outChannels * inChannels * 9)).map { _ in Float.random(in: -scale...scale, using: &rng) },
        bias: (0..<outChannels).map { _ in Float.random(in: -0.1...0.1, using: &rng) },
        inChannels: inChannels, outChannels: outChannels)
    let kernel: any Conv3x3Kernel = options.kernel == "im2col" ? Im2colConv3x3(parameters) : WinogradConv3x3(parameters)
    let input = (0..<(inChannels * side * side)).map { _ in Float.random(in: 0...1, using: &rng) }
    var output = [Float](repeating: 0, count: outChannels * side * side)
    var gradient = [Float](repeating: 0, count: outChannels * side * side)
    var gradInput = [Float](repeating: 0, count: inChannels * side * side)
    let scratch = ScratchSpace()
    var forward = Double.infinity, backward = Double.infinity
    for _ in 0..<options.reps {
        let start = DispatchTime.now().uptimeNanoseconds
        kernel.forwardReLU(input: input, output: &output, height: side, width: side, scratch: scratch)
        let middle = DispatchTime.now().uptimeNanoseconds
        gradient.withUnsafeMutableBufferPointer { g in
            for i in g.indices { g[i] = Float(i % 7) - 3 }
            let reset = DispatchTime.now().uptimeNanoseconds
            kernel.backwardInputThroughReLU(activation: output, gradient: g.baseAddress!, gradInput: &gradInput,
                                            height: side, width: side, scratch: scratch)
            backward = min(backward, Double(DispatchTime.now().uptimeNanoseconds - reset) / 1e6)
        }
        forward = min(forward, Double(middle - start) / 1e6)
    }
    let gflop = 2 * 9 * Double(inChannels * outChannels * side * side) / 1e9
    print(String(format: "| %d → %d | %d px | %.3f | %.0f | %.3f | %.0f |", inChannels, outChannels, side,
                 forward, gflop / forward * 1e3, backward, gflop / backward * 1e3))
}
