// A Conv3x3Kernel computed with Winograd F(4×4, 3×3): 4× fewer multiply-adds than im2col + sgemm.

import Synchronization

/// 3×3 convolution, stride 1, zero padding 1, by Winograd's F(4×4, 3×3) algorithm.
///
/// The forward pass convolves with the kernel g; the input gradient is the convolution of the output
/// gradient with the kernel rotated by 180° and with input and output channels swapped
/// (`transposedFlippedConv3x3Weight`), so both passes share one driver (`WinogradConvolution`) and
/// differ only in their transformed coefficients.
/// Each set (36·inChannels·outChannels floats, 4× the kernel) is computed on the first call that needs
/// it and kept: layers a network never runs, or never differentiates, cost no memory.
///
/// Accuracy: max |error| / max |output| against a direct float64 convolution is at most about 1.5e-5 at
/// VGG's channel counts (see WinogradF4x4.swift); im2col + sgemm in float32 is a few times tighter.
public final class WinogradConv3x3: Conv3x3Kernel {
    public let inChannels: Int
    public let outChannels: Int
    /// OIHW kernel [outChannels, inChannels, 3, 3] and bias [outChannels].
    private let weight: [Float]
    private let bias: [Float]
    /// What is built on first use: the transformed coefficients of each direction, and the kernel for
    /// narrow planes.
    private struct Built {
        var forward: [Float]?
        var backward: [Float]?
        var narrow: Im2colConv3x3?
    }
    private let built = Mutex(Built())

    /// Planes at most this wide go to `Im2colConv3x3`: with ≤ 4 tile columns, half or more of each 8-tile
    /// SIMD group is padding (measured at 16 px: 1.2–1.5× slower than im2col; at 32 px 1.8× faster).
    static let narrowWidth = 2 * WinogradLanes.scalarCount

    /// - Parameters:
    ///   - weight: OIHW `[outChannels, inChannels, 3, 3]`, `outChannels·inChannels·9` values.
    ///   - bias: `outChannels` values.
    /// - Throws: `NSTError.shape` when `weight`/`bias` do not match the channel counts.
    public convenience init(weight: [Float], bias: [Float], inChannels: Int, outChannels: Int) throws {
        try validateConv3x3Parameters(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels)
        self.init(uncheckedWeight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels)
    }

    init(uncheckedWeight weight: [Float], bias: [Float], inChannels: Int, outChannels: Int) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.weight = weight
        self.bias = bias
    }

    /// output `[outChannels, height, width]` = conv3x3(input `[inChannels, height, width]`) + bias.
    /// - Complexity: 36·in·out·⌈H/4⌉·⌈W/4⌉ multiply-adds in sgemm (direct convolution: 9·in·out·H·W),
    ///   plus O((in + out)·H·W) for the transforms.
    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        height: Int, width: Int, scratch: ScratchSpace) {
        if width <= Self.narrowWidth {
            return narrowKernel().forward(input: input, output: output, height: height, width: width, scratch: scratch)
        }
        let coefficients = coefficients(flipped: false)
        WinogradProfile.measure(.forward) {
            coefficients.withUnsafeBufferPointer { u in
                bias.withUnsafeBufferPointer { b in
                    WinogradConvolution.convolve(
                        input: input, output: output, height: height, width: width,
                        inChannels: inChannels, outChannels: outChannels,
                        coefficients: u.baseAddress!, bias: b.baseAddress!, scratch: scratch)
                }
            }
        }
    }

    /// gradInput `[inChannels, height, width]` from gradOutput `[outChannels, height, width]`.
    /// - Complexity: as `forward`.
    public func backwardInput(gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
                              height: Int, width: Int, scratch: ScratchSpace) {
        if width <= Self.narrowWidth {
            return narrowKernel().backwardInput(gradOutput: gradOutput, gradInput: gradInput, height: height,
                                                width: width, scratch: scratch)
        }
        let coefficients = coefficients(flipped: true)
        WinogradProfile.measure(.backwardInput) {
            coefficients.withUnsafeBufferPointer { u in
                WinogradConvolution.convolve(
                    input: gradOutput, output: gradInput, height: height, width: width,
                    inChannels: outChannels, outChannels: inChannels,
                    coefficients: u.baseAddress!, bias: nil, scratch: scratch)
            }
        }
    }

    /// The coefficients `U[ξ][o][i]` of the forward kernel, or those of the input-gradient kernel
    /// (`transposedFlippedConv3x3Weight`, `U[ξ][i][o]`) when `flipped`; built on first use, then shared.
    func coefficients(flipped: Bool) -> [Float] {
        built.withLock { built in
            if let cached = flipped ? built.backward : built.forward { return cached }
            if flipped {
                let flippedWeight = transposedFlippedConv3x3Weight(weight, inChannels: inChannels, outChannels: outChannels)
                let coefficients = Self.transformed(flippedWeight, outChannels: inChannels, inChannels: outChannels)
                built.backward = coefficients
                return coefficients
            }
            let coefficients = Self.transformed(weight, outChannels: outChannels, inChannels: inChannels)
            built.forward = coefficients
            return coefficients
        }
    }

    /// The im2col kernel for narrow planes, built on first use.
    private func narrowKernel() -> Im2colConv3x3 {
        built.withLock { built in
            if let kernel = built.narrow { return kernel }
            let kernel = Im2colConv3x3(uncheckedWeight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels)
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
