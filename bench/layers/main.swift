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
import BenchSupport
import NSTEngine

struct Options {
    var size = 256
    var reps = 30
    var threads = 2
    var kernel = "winograd"

    init(_ arguments: [String]) {
        let flags = CommandLineFlags(program: "LayerBench", usage: "the comment at the top of bench/layers/main.swift")
        flags.read(arguments) { flag, value in
            switch flag {
            case "--size": size = flags.integer(flag, value)
            case "--reps": reps = flags.integer(flag, value)
            case "--threads": threads = flags.integer(flag, value)
            case "--kernel" where value == "winograd" || value == "im2col": kernel = value
            default: return false
            }
            return true
        }
        guard size >= 4, reps >= 1, threads >= 1 else { flags.fail("--size >= 4, --reps >= 1, --threads >= 1") }
    }
}

/// (in channels, out channels, plane side) of each distinct conv layer up to conv5_1.
func vgg19Shapes(size: Int) -> [(Int, Int, Int)] {
    let blocks = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512)]
    let sides = [size, size, size / 2, size / 2, size / 4, size / 4, size / 8, size / 8, size / 16]
    return zip(blocks, sides).map { ($0.0, $0.1, $1) }.filter { $0.2 >= 4 }
}

/// Values spread over -1...1 by a multiplicative hash of their index: the data only has to look like
/// activations and weights, and the system random generator made the setup slower than the timing.
func spread(_ count: Int, seed: Int) -> [Float] {
    (0..<count).map { Float(UInt32(truncatingIfNeeded: ($0 &+ seed) &* 2_654_435_761) >> 8) / 8_388_608 - 1 }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
print("BLAS: \(BLAS.description); \(options.threads) threads; \(options.kernel); min of \(options.reps) calls")
print("| in → out | plane | forward+ReLU ms | GFLOP/s | input gradient ms | GFLOP/s |")
print("|---|---:|---:|---:|---:|---:|")
// The kernels split their work over --threads workers (a binding of this thread, see Parallel.swift).
try Parallel.withThreadCount(options.threads) {
    for (inChannels, outChannels, side) in vgg19Shapes(size: options.size) {
        let scale = (2 / Float(9 * inChannels)).squareRoot()
        let parameters = try Conv3x3Parameters(
            weight: spread(outChannels * inChannels * 9, seed: 1).map { $0 * scale },
            bias: spread(outChannels, seed: 2).map { $0 * 0.1 },
            inChannels: inChannels, outChannels: outChannels)
        let kernel: any Conv3x3Kernel = options.kernel == "im2col" ? Im2colConv3x3(parameters) : WinogradConv3x3(parameters)
        let input = spread(inChannels * side * side, seed: 3).map { ($0 + 1) / 2 }
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
}
