@testable import NSTEngine

/// Direct-loop 3x3 convolution accumulating in `Double`: slow, obviously correct, the reference the
/// tests compare faster kernels against.
struct NaiveConv3x3: Conv3x3Kernel {
    let parameters: Conv3x3Parameters
    var inChannels: Int { parameters.inChannels }
    var outChannels: Int { parameters.outChannels }

    init(_ parameters: Conv3x3Parameters) {
        self.parameters = parameters
    }

    /// - Throws: `NSTError.shape` when `weight`/`bias` do not match the channel counts.
    init(weight: [Float], bias: [Float], inChannels: Int, outChannels: Int) throws {
        self.init(try Conv3x3Parameters(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels))
    }

    /// - Complexity: O(outChannels · inChannels · 9 · height · width), single-threaded.
    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        height: Int, width: Int, scratch: ScratchSpace) {
        for o in 0..<outChannels {
            for y in 0..<height {
                for x in 0..<width {
                    var sum = Double(parameters.bias[o])
                    forEachTap(o: o, y: y, x: x, height: height, width: width) { inputIndex, weightIndex in
                        sum += Double(parameters.weight[weightIndex]) * Double(input[inputIndex])
                    }
                    output[(o * height + y) * width + x] = Float(sum)
                }
            }
        }
    }

    /// Scatters each output gradient back through the kernel taps (the literal chain rule).
    func backwardInput(gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
                              height: Int, width: Int, scratch: ScratchSpace) {
        var sums = [Double](repeating: 0, count: inChannels * height * width)
        for o in 0..<outChannels {
            for y in 0..<height {
                for x in 0..<width {
                    let g = Double(gradOutput[(o * height + y) * width + x])
                    forEachTap(o: o, y: y, x: x, height: height, width: width) { inputIndex, weightIndex in
                        sums[inputIndex] += g * Double(parameters.weight[weightIndex])
                    }
                }
            }
        }
        for j in 0..<sums.count { gradInput[j] = Float(sums[j]) }
    }

    /// Calls `body(inputIndex, weightIndex)` for every tap of output pixel `(o, y, x)` that lies inside
    /// the image; the taps left out are the zero padding.
    private func forEachTap(o: Int, y: Int, x: Int, height: Int, width: Int, _ body: (Int, Int) -> Void) {
        for i in 0..<inChannels {
            for ky in 0..<3 {
                let sy = y + ky - 1
                guard sy >= 0, sy < height else { continue }
                for kx in 0..<3 {
                    let sx = x + kx - 1
                    guard sx >= 0, sx < width else { continue }
                    body((i * height + sy) * width + sx, ((o * inChannels + i) * 3 + ky) * 3 + kx)
                }
            }
        }
    }
}
