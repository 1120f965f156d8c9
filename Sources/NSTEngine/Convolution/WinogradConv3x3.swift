// A Conv3x3Kernel computed with Winograd F(4×4, 3×3): 4× fewer multiply-adds than im2col + sgemm.

import Synchronization

/// 3×3 convolution, stride 1, zero padding 1, by Winograd's F(4×4, 3×3) algorithm.
///
/// The forward pass correlates with the kernel g; the input gradient correlates the output gradient with
/// the kernel rotated by 180° and with input and output channels swapped. Both passes run through one
/// driver (`WinogradConvolution`) with one set of transformed coefficients (36·inChannels·outChannels
/// floats, 4× the kernel), computed on the first call and kept: layers a network never runs cost no memory.
///
/// Accuracy: max |error| / max |output| against a direct float64 convolution is at most about 1.5e-5 at
/// VGG's channel counts (see WinogradF4x4.swift); im2col + sgemm in float32 is a few times tighter.
public final class WinogradConv3x3: Conv3x3Kernel {
    public let parameters: Conv3x3Parameters
    public var inChannels: Int { parameters.inChannels }
    public var outChannels: Int { parameters.outChannels }
    /// What is built on first use: the transformed coefficients, and the kernel for narrow planes.
    private struct Built {
        var coefficients: [Float]?
        var narrow: Im2colConv3x3?
    }
    private let built = Mutex(Built())

    /// Planes at most this wide go to `Im2colConv3x3`: a 4-px plane has one tile per row, so each 8-tile
    /// SIMD group transforms one tile and Winograd loses to im2col; from 8 px on it wins (measured:
    /// bench/RESULTS.md, "Narrow planes").
    static let narrowWidth = 4

    public init(_ parameters: Conv3x3Parameters) {
        self.parameters = parameters
    }

    /// - Parameters:
    ///   - weight: OIHW `[outChannels, inChannels, 3, 3]`, `outChannels·inChannels·9` values.
    ///   - bias: `outChannels` values.
    /// - Throws: `NSTError.shape` when `weight`/`bias` do not match the channel counts.
    public convenience init(weight: [Float], bias: [Float], inChannels: Int, outChannels: Int) throws {
        self.init(try Conv3x3Parameters(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels))
    }

    /// output `[outChannels, height, width]` = conv3x3(input `[inChannels, height, width]`) + bias.
    /// - Complexity: 36·in·out·⌈H/4⌉·⌈W/4⌉ multiply-adds in sgemm (direct convolution: 9·in·out·H·W),
    ///   plus O((in + out)·H·W) for the transforms.
    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        height: Int, width: Int, scratch: ScratchSpace) {
        if width <= Self.narrowWidth {
            return LayerProfiler.measure(.im2colForward) {
                narrowKernel().forward(input: input, output: output, height: height, width: width, scratch: scratch)
            }
        }
        run(.forward, input: input, output: output, height: height, width: width, scratch: scratch)
    }

    /// Floats of each `ScratchSpace` slot a pass over a `height x width` plane takes.
    func scratchFloats(height: Int, width: Int) -> [ScratchSlot: Int] {
        if width <= Self.narrowWidth {
            return [.im2colColumns: Im2colConv3x3.scratchFloats(inChannels: max(inChannels, outChannels), height: height, width: width)]
        }
        return WinogradConvolution.scratchFloats(height: height, width: width, inChannels: inChannels, outChannels: outChannels)
    }

    /// Floats built and kept on the first pass over planes `width` wide: the transformed coefficients, or
    /// for narrow planes the im2col kernel's flipped weights (shared by every caller of the network).
    func builtFloats(width: Int) -> Int {
        (width <= Self.narrowWidth ? 9 : WinogradF4x4.coefficients) * inChannels * outChannels
    }

    /// As `forward`, with the ReLU applied as each output block is written.
    public func forwardReLU(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                            height: Int, width: Int, scratch: ScratchSpace) {
        if width <= Self.narrowWidth {
            return LayerProfiler.measure(.im2colForward) {
                narrowKernel().forwardReLU(input: input, output: output, height: height, width: width, scratch: scratch)
            }
        }
        run(.forward, input: input, output: output, height: height, width: width,
            fusion: .init(outputReLU: true), scratch: scratch)
    }

    /// gradInput `[inChannels, height, width]` from gradOutput `[outChannels, height, width]`.
    /// - Complexity: as `forward`.
    public func backwardInput(gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
                              height: Int, width: Int, scratch: ScratchSpace) {
        if width <= Self.narrowWidth {
            return LayerProfiler.measure(.im2colBackwardInput) {
                narrowKernel().backwardInput(gradOutput: gradOutput, gradInput: gradInput, height: height,
                                             width: width, scratch: scratch)
            }
        }
        run(.inputGradient, input: gradOutput, output: gradInput, height: height, width: width, scratch: scratch)
    }

    /// As `backwardInput`, with the ReLU's mask applied as the gradient is read; `gradient` is left as
    /// it was.
    public func backwardInputThroughReLU(activation: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                                         gradInput: UnsafeMutablePointer<Float>,
                                         height: Int, width: Int, scratch: ScratchSpace) {
        if width <= Self.narrowWidth {
            return LayerProfiler.measure(.im2colBackwardInput) {
                narrowKernel().backwardInputThroughReLU(activation: activation, gradient: gradient,
                                                        gradInput: gradInput, height: height, width: width,
                                                        scratch: scratch)
            }
        }
        run(.inputGradient, input: gradient, output: gradInput, height: height, width: width,
            fusion: .init(reluActivation: activation), scratch: scratch)
    }

    private func run(_ direction: WinogradConvolution.Direction, input: UnsafePointer<Float>,
                     output: UnsafeMutablePointer<Float>, height: Int, width: Int,
                     fusion: WinogradConvolution.Fusion = .init(), scratch: ScratchSpace) {
        let forward = direction == .forward
        let coefficients = coefficients()
        LayerProfiler.measure(forward ? .forward : .backwardInput) {
            coefficients.withUnsafeBufferPointer { u in
                parameters.bias.withUnsafeBufferPointer { b in
                    WinogradConvolution.convolve(
                        direction, input: input, output: output, height: height, width: width,
                        inChannels: forward ? inChannels : outChannels, outChannels: forward ? outChannels : inChannels,
                        coefficients: u.baseAddress!, bias: forward ? b.baseAddress! : nil, fusion: fusion,
                        scratch: scratch)
                }
            }
        }
    }

    /// The transformed kernels `U[ξ][o][i]`, built on first use, then shared by both passes.
    func coefficients() -> [Float] {
        built.withLock { built in
            if let cached = built.coefficients { return cached }
            let coefficients = Self.transformed(parameters.weight, outChannels: outChannels, inChannels: inChannels)
            built.coefficients = coefficients
            return coefficients
        }
    }

    /// The im2col kernel for narrow planes, built on first use.
    private func narrowKernel() -> Im2colConv3x3 {
        built.withLock { built in
            if let kernel = built.narrow { return kernel }
            let kernel = Im2colConv3x3(parameters)
            built.narrow = kernel
            return kernel
        }
    }

    /// `U[ξ][o][i]` = coefficient ξ of `G g[o][i] Gᵀ` for an OIHW `weight`.
    private static func transformed(_ weight: [Float], outChannels: Int, inChannels: Int) -> [Float] {
        let planeCount = outChannels * inChannels
        return [Float](unsafeUninitializedCapacity: WinogradF4x4.coefficients * planeCount) { u, count in
            let u = u.baseAddress!
            weight.withUnsafeBufferPointer { w in
                let w = w.baseAddress!
                Parallel.forEach(outChannels) { o in
                    // One row of all 36 planes at a time, staged contiguously: writing the 36 values of a
                    // kernel straight to planes a multiple of 4 KiB apart thrashes one L1 set.
                    let staged = UnsafeMutablePointer<Float>.allocate(capacity: WinogradF4x4.coefficients * inChannels)
                    defer { staged.deallocate() }
                    for i in 0..<inChannels {
                        WinogradF4x4.transformKernel(w + (o * inChannels + i) * 9, into: staged + i, stride: inChannels)
                    }
                    for xi in 0..<WinogradF4x4.coefficients {
                        (u + xi * planeCount + o * inChannels).update(from: staged + xi * inChannels, count: inChannels)
                    }
                }
            }
            count = WinogradF4x4.coefficients * planeCount
        }
    }
}
