import XCTest
@testable import NSTEngine

/// SplitMix64: a tiny deterministic generator so every test sees the same "random" data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Uniform floats from the top 24 bits of each draw (cheaper than `Float.random` in debug
/// builds, which matters for the ~20M weights of a VGG).
func randomFloats(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    let scale = (range.upperBound - range.lowerBound) / Float(1 << 24)
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<count { buffer[i] = range.lowerBound + Float(generator.next() >> 40) * scale }
        initialized = count
    }
}

/// Central differences `(f(x + h·e_i) − f(x − h·e_i)) / 2h` in Double for the listed coordinates
/// (all by default). `f` is evaluated on Float inputs since that is what the engine computes on.
func centralDifferences(at x: [Float], h: Float, indices: [Int]? = nil,
                        _ f: ([Float]) throws -> Double) rethrows -> [Double] {
    try (indices ?? Array(x.indices)).map { i in
        var plus = x, minus = x
        plus[i] += h
        minus[i] -= h
        let step = Double(plus[i]) - Double(minus[i])  // the step actually taken after rounding
        return (try f(plus) - f(minus)) / step
    }
}

/// `Σ weights[i] · values[i]` in Double: turns a vector-valued op into a scalar for gradient checks.
func dot(_ weights: [Float], _ values: [Float]) -> Double {
    zip(weights, values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// Asserts `|actual − expected| <= tolerance · max(1, max|expected|)` elementwise, reporting the
/// worst index with both values.
func assertClose<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
    _ actual: [A], _ expected: [E], tolerance: Double, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    guard actual.count == expected.count, !actual.isEmpty else { return }
    let scale = max(1, expected.map { abs(Double($0)) }.max()!)
    var worst = 0, worstError = -1.0
    for i in actual.indices {
        let error = abs(Double(actual[i]) - Double(expected[i]))
        if !(error <= worstError) { worst = i; worstError = error }
    }
    XCTAssertLessThanOrEqual(worstError, tolerance * scale,
        "\(message): at \(worst) got \(actual[worst]), expected \(expected[worst]), tolerance \(tolerance) x scale \(scale)",
        file: file, line: line)
}

/// Small VGG weights with He-style scaling so activations neither vanish nor explode.
/// With `positive`, weights lie in [0, 2/fan-in] so a positive image keeps every activation
/// positive: the ReLUs never switch and the network (with average pooling) is linear.
func randomVGGWeights(_ architecture: VGGArchitecture, seed: UInt64,
                      positive: Bool = false) -> [String: (weight: [Float], bias: [Float])] {
    var weights: [String: (weight: [Float], bias: [Float])] = [:]
    for (n, conv) in architecture.convolutions.enumerated() {
        let bound = (6 / Float(conv.inChannels * 9)).squareRoot()
        let range: ClosedRange<Float> = positive ? 0...(2 / Float(conv.inChannels * 9)) : -bound...bound
        weights[conv.name] = (randomFloats(conv.outChannels * conv.inChannels * 9, in: range, seed: seed &+ UInt64(2 * n)),
                              randomFloats(conv.outChannels, in: positive ? 0...0.1 : -0.1...0.1, seed: seed &+ UInt64(2 * n + 1)))
    }
    return weights
}

// The two runners below hand their arrays to the kernel as pointers valid for the call; outputs
// start as NaN so a value the kernel fails to write shows up in the comparison.

/// Runs `kernel.forward` on arrays.
func runForward(_ kernel: any Conv3x3Kernel, _ input: [Float], height: Int, width: Int) -> [Float] {
    var output = [Float](repeating: .nan, count: kernel.outChannels * height * width)
    kernel.forward(input: input, output: &output, height: height, width: width, scratch: ScratchSpace())
    return output
}

/// Runs `kernel.backwardInput` on arrays.
func runBackward(_ kernel: any Conv3x3Kernel, _ gradOutput: [Float], height: Int, width: Int) -> [Float] {
    var gradInput = [Float](repeating: .nan, count: kernel.inChannels * height * width)
    kernel.backwardInput(gradOutput: gradOutput, gradInput: &gradInput, height: height, width: width, scratch: ScratchSpace())
    return gradInput
}

/// Weight sets shared by the test classes, generated once per process.
enum SharedWeights {
    static let vgg19 = randomVGGWeights(.vgg19, seed: 1000)
    static let vgg16 = randomVGGWeights(.vgg16, seed: 77)
    /// See `randomVGGWeights(positive:)`: with a positive image and average pooling the network is linear.
    static let vgg19Positive = randomVGGWeights(.vgg19, seed: 2000, positive: true)
}
