/// A 3x3 convolution with stride 1, zero padding 1 and a bias, with its gradient with respect to
/// the input (style transfer never needs weight gradients).
///
/// Every implementation (Winograd for production, im2col for planes of at most 4 px, the tests' naive
/// reference) conforms, so `FeatureNetwork` and the tests can swap them. Tensors are float32 CHW; callers guarantee
/// the buffers hold `channels * height * width` elements and that `height, width >= 1`.
public protocol Conv3x3Kernel: Sendable {
    var inChannels: Int { get }
    var outChannels: Int { get }
    /// output [outChannels, height, width] = conv3x3(input [inChannels, height, width]) + bias
    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 height: Int, width: Int, scratch: ScratchSpace)
    /// gradInput [inChannels, height, width] from gradOutput [outChannels, height, width]
    func backwardInput(gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
                       height: Int, width: Int, scratch: ScratchSpace)
    /// output = max(conv3x3(input) + bias, 0): the layer and the ReLU after it.
    func forwardReLU(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                     height: Int, width: Int, scratch: ScratchSpace)
    /// gradInput [inChannels, height, width] of the layer and the ReLU after it, from the gradient at the
    /// ReLU's output; `activation` is the ReLU's output; `gradient` may be overwritten.
    func backwardInputThroughReLU(activation: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                                  gradInput: UnsafeMutablePointer<Float>,
                                  height: Int, width: Int, scratch: ScratchSpace)
}

/// The unfused passes: the convolution, then the ReLU as a separate pass over memory. Kernels that can
/// do the ReLU on the way (`WinogradConv3x3`) replace these.
extension Conv3x3Kernel {
    public func forwardReLU(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                            height: Int, width: Int, scratch: ScratchSpace) {
        forward(input: input, output: output, height: height, width: width, scratch: scratch)
        ReLU.forward(input: output, output: output, count: outChannels * height * width)
    }

    public func backwardInputThroughReLU(activation: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                                         gradInput: UnsafeMutablePointer<Float>,
                                         height: Int, width: Int, scratch: ScratchSpace) {
        ReLU.backward(activation: activation, gradOutput: gradient, gradInput: gradient,
                      count: outChannels * height * width)
        backwardInput(gradOutput: gradient, gradInput: gradInput, height: height, width: width, scratch: scratch)
    }
}

/// Validates OIHW weights and a bias and returns the production kernel for them: Winograd
/// F(4x4,3x3), which hands narrow planes to im2col itself (see `WinogradConv3x3`).
/// - Parameters:
///   - weight: `[outChannels, inChannels, 3, 3]`, row-major.
///   - bias: `[outChannels]`.
/// - Throws: `NSTError.shape` when a count does not match the channel numbers.
public func makeConv3x3Kernel(weight: [Float], bias: [Float],
                              inChannels: Int, outChannels: Int) throws -> any Conv3x3Kernel {
    WinogradConv3x3(try Conv3x3Parameters(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels))
}

/// What every kernel is built from: OIHW weights and a bias whose sizes match the channel counts.
public struct Conv3x3Parameters: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    /// `[outChannels, inChannels, 3, 3]`, row-major.
    public let weight: [Float]
    /// `[outChannels]`.
    public let bias: [Float]

    /// - Throws: `NSTError.shape` when a count does not match the channel numbers.
    public init(weight: [Float], bias: [Float], inChannels: Int, outChannels: Int) throws {
        guard inChannels > 0, outChannels > 0 else {
            throw NSTError.shape("conv3x3 needs positive channel counts, got in \(inChannels), out \(outChannels)")
        }
        guard weight.count == outChannels * inChannels * 9 else {
            throw NSTError.shape("conv3x3 weight needs \(outChannels)x\(inChannels)x3x3 = \(outChannels * inChannels * 9) values, got \(weight.count)")
        }
        guard bias.count == outChannels else {
            throw NSTError.shape("conv3x3 bias needs \(outChannels) values, got \(bias.count)")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.weight = weight
        self.bias = bias
    }
}

/// The weights of the convolution whose forward pass is the input gradient of `weight`:
/// `flipped[i, o, ky, kx] = weight[o, i, 2 - ky, 2 - kx]` (swap channels, rotate 180°).
func transposedFlippedConv3x3Weight(_ weight: [Float], inChannels: Int, outChannels: Int) -> [Float] {
    var flipped = [Float](repeating: 0, count: weight.count)
    for o in 0..<outChannels {
        for i in 0..<inChannels {
            for k in 0..<9 {
                flipped[(i * outChannels + o) * 9 + (8 - k)] = weight[(o * inChannels + i) * 9 + k]
            }
        }
    }
    return flipped
}
