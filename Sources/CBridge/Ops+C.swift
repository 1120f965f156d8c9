// The layer operations [EXPERIMENTAL] of swiftnst.h: thin validated wrappers over the engine's
// kernels, used to check them against independent references from Python. Each export's contract
// is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h.

import CSwiftNST
import NSTEngine

/// Builds the production 3x3 kernel for caller-provided OIHW weights; the backward pass needs no bias, so it gets zeros.
private func conv3x3Kernel(weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, biasRequired: Bool,
                           inChannels: Int64, outChannels: Int64) throws -> any Conv3x3Kernel {
    let weightCount = try elementCount([outChannels, inChannels, 3, 3], "weight")  // <= Int.max / 4, so doubling fits
    try MemoryBudget.check(floats: 2 * weightCount, for: "conv3x3 weights")
    let w = Array(try floats(weight, count: weightCount, "weight"))
    let o = Int(outChannels)
    let b = biasRequired ? Array(try floats(bias, count: o, "bias")) : [Float](repeating: 0, count: o)
    return try makeConv3x3Kernel(weight: w, bias: b, inChannels: Int(inChannels), outChannels: o)
}

/// The checks both conv exports make, in their order: the sides, the element counts of the `source`
/// `[sourceChannels, height, width]` and `target` `[targetChannels, height, width]` buffers, the caller's
/// `targetCount`, then the pointers; `body` gets the checked buffers and sides.
private func withConvolutionBuffers(
    _ source: UnsafePointer<Float>?, _ sourceChannels: Int64, _ sourceName: String,
    _ target: UnsafeMutablePointer<Float>?, _ targetChannels: Int64, _ targetName: String, _ targetCount: Int64,
    height: Int64, width: Int64,
    _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) throws -> Void
) throws {
    let h = try imageSide(height, "height"), w = try imageSide(width, "width")
    _ = try elementCount([sourceChannels, height, width], sourceName)  // rejects sizes whose product overflows
    try checkCount(targetCount, try elementCount([targetChannels, height, width], targetName), targetName)
    try body(try required(source, sourceName), try required(target, targetName), h, w)
}

@_cdecl("nst_op_conv3x3_forward")
public func nst_op_conv3x3_forward(_ input: UnsafePointer<Float>?, _ inChannels: Int64, _ height: Int64, _ width: Int64,
                                   _ weight: UnsafePointer<Float>?, _ bias: UnsafePointer<Float>?, _ outChannels: Int64,
                                   _ output: UnsafeMutablePointer<Float>?, _ outputCount: Int64) -> nst_status {
    bridge("nst_op_conv3x3_forward") {
        try withConvolutionBuffers(input, inChannels, "input", output, outChannels, "output", outputCount,
                                   height: height, width: width) { x, y, h, w in
            let kernel = try conv3x3Kernel(weight: weight, bias: bias, biasRequired: true,
                                           inChannels: inChannels, outChannels: outChannels)
            kernel.forward(input: x, output: y, height: h, width: w, scratch: ScratchSpace())
        }
    }
}

@_cdecl("nst_op_conv3x3_backward_input")
public func nst_op_conv3x3_backward_input(_ gradOutput: UnsafePointer<Float>?, _ outChannels: Int64, _ height: Int64,
                                          _ width: Int64, _ weight: UnsafePointer<Float>?, _ inChannels: Int64,
                                          _ gradInput: UnsafeMutablePointer<Float>?, _ gradInputCount: Int64) -> nst_status {
    bridge("nst_op_conv3x3_backward_input") {
        try withConvolutionBuffers(gradOutput, outChannels, "grad_output", gradInput, inChannels, "grad_input",
                                   gradInputCount, height: height, width: width) { g, gi, h, w in
            let kernel = try conv3x3Kernel(weight: weight, bias: nil, biasRequired: false,
                                           inChannels: inChannels, outChannels: outChannels)
            kernel.backwardInput(gradOutput: g, gradInput: gi, height: h, width: w, scratch: ScratchSpace())
        }
    }
}

/// A count >= 0 for the elementwise ops (whose buffers' byte sizes must fit, like every other count).
private func elementwiseCount(_ count: Int64) throws -> Int {
    guard count != 0 else { return 0 }
    return try elementCount([count], "count")
}

@_cdecl("nst_op_relu_forward")
public func nst_op_relu_forward(_ input: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>?, _ count: Int64) -> nst_status {
    bridge("nst_op_relu_forward") {
        let n = try elementwiseCount(count)
        let x = try required(input, "input"), y = try required(output, "output")
        ReLU.forward(input: x, output: y, count: n)
    }
}

@_cdecl("nst_op_relu_backward")
public func nst_op_relu_backward(_ input: UnsafePointer<Float>?, _ gradOutput: UnsafePointer<Float>?,
                                 _ gradInput: UnsafeMutablePointer<Float>?, _ count: Int64) -> nst_status {
    bridge("nst_op_relu_backward") {
        let n = try elementwiseCount(count)
        let x = try required(input, "input"), g = try required(gradOutput, "grad_output")
        let gi = try required(gradInput, "grad_input")
        ReLU.backward(activation: x, gradOutput: g, gradInput: gi, count: n)
    }
}

/// Validated sizes of a 2x2 pooling: (pooling, channels, height, width, input count, output count).
private func poolShape(_ value: Int32, _ channels: Int64, _ height: Int64, _ width: Int64) throws
    -> (pooling: Pooling, c: Int, h: Int, w: Int, inputCount: Int, outputCount: Int) {
    let p = try pooling(value)
    let h = try imageSide(height, "height"), w = try imageSide(width, "width")
    let inputCount = try elementCount([channels, height, width], "input")
    let c = Int(channels)
    return (p, c, h, w, inputCount, c * (h / 2) * (w / 2))
}

@_cdecl("nst_op_pool2x2_forward")
public func nst_op_pool2x2_forward(_ poolingValue: Int32, _ input: UnsafePointer<Float>?, _ channels: Int64, _ height: Int64,
                                   _ width: Int64, _ output: UnsafeMutablePointer<Float>?, _ outputCount: Int64) -> nst_status {
    bridge("nst_op_pool2x2_forward") {
        let s = try poolShape(poolingValue, channels, height, width)
        try checkCount(outputCount, s.outputCount, "output")
        let x = try required(input, "input"), y = try required(output, "output")
        s.pooling.forward(input: x, output: y, channels: s.c, height: s.h, width: s.w)
    }
}

@_cdecl("nst_op_pool2x2_backward")
public func nst_op_pool2x2_backward(_ poolingValue: Int32, _ input: UnsafePointer<Float>?, _ channels: Int64,
                                    _ height: Int64, _ width: Int64, _ gradOutput: UnsafePointer<Float>?,
                                    _ gradOutputCount: Int64, _ gradInput: UnsafeMutablePointer<Float>?,
                                    _ gradInputCount: Int64) -> nst_status {
    bridge("nst_op_pool2x2_backward") {
        let s = try poolShape(poolingValue, channels, height, width)
        try checkCount(gradOutputCount, s.outputCount, "grad_output")
        try checkCount(gradInputCount, s.inputCount, "grad_input")
        let x = try required(input, "input"), g = try required(gradOutput, "grad_output")
        let gi = try required(gradInput, "grad_input")
        s.pooling.backward(input: x, gradOutput: g, gradInput: gi, channels: s.c, height: s.h, width: s.w)
    }
}

@_cdecl("nst_op_gram_backward")
public func nst_op_gram_backward(_ features: UnsafePointer<Float>?, _ channels: Int64, _ nPositions: Int64,
                                 _ gradGram: UnsafePointer<Float>?, _ gradFeatures: UnsafeMutablePointer<Float>?,
                                 _ gradFeaturesCount: Int64) -> nst_status {
    bridge("nst_op_gram_backward") {
        let count = try elementCount([channels, nPositions], "features")
        _ = try elementCount([channels, channels], "grad_gram")
        try checkCount(gradFeaturesCount, count, "grad_features")
        let f = try required(features, "features"), gg = try required(gradGram, "grad_gram")
        let out = try required(gradFeatures, "grad_features")
        let c = Int(channels)
        GramMatrix.backward(features: f, gradGram: gg, channels: c, positions: count / c,
                            gradFeatures: out, scratch: ScratchSpace())
    }
}
