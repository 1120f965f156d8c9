// The Costs section of swiftnst.h. Each export's contract (arguments, statuses, state on error)
// is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h, not repeated here.

import CSwiftNST
import NSTEngine

@_cdecl("nst_gram_matrix")
public func nst_gram_matrix(_ features: UnsafePointer<Float>?, _ channels: Int64, _ nPositions: Int64,
                            _ gramOut: UnsafeMutablePointer<Float>?, _ gramCount: Int64) -> nst_status {
    bridge("nst_gram_matrix") {
        let count = try elementCount([channels, nPositions], "features")
        let c = Int(channels)
        let gramSize = try elementCount([channels, channels], "gram")
        try checkCount(gramCount, gramSize, "gram_out")
        let input = try floats(features, count: count, "features")
        let out = try mutableFloats(gramOut, count: gramSize, "gram_out")
        let gram = try TutorialCosts.gram(features: input, channels: c, positions: count / c)
        _ = out.update(fromContentsOf: gram)
    }
}

/// Shared argument handling of the two tutorial costs on a pair of `[channels, height, width]` activations.
private func cost(_ function: StaticString, _ a: UnsafePointer<Float>?, _ aName: String,
                  _ b: UnsafePointer<Float>?, _ bName: String, _ channels: Int64, _ height: Int64, _ width: Int64,
                  _ costOut: UnsafeMutablePointer<Double>?,
                  _ compute: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, Int, Int, Int) throws -> Double) -> nst_status {
    bridge(function) {
        let count = try elementCount([channels, height, width], "activation")
        let first = try floats(a, count: count, aName)
        let second = try floats(b, count: count, bName)
        let out = try required(costOut, "cost_out")
        out.pointee = try compute(first, second, Int(channels), Int(height), Int(width))
    }
}

@_cdecl("nst_content_cost")
public func nst_content_cost(_ aC: UnsafePointer<Float>?, _ aG: UnsafePointer<Float>?, _ channels: Int64,
                             _ height: Int64, _ width: Int64, _ costOut: UnsafeMutablePointer<Double>?) -> nst_status {
    cost("nst_content_cost", aC, "a_c", aG, "a_g", channels, height, width, costOut) {
        try TutorialCosts.contentCost(content: $0, generated: $1, channels: $2, height: $3, width: $4)
    }
}

@_cdecl("nst_layer_style_cost")
public func nst_layer_style_cost(_ aS: UnsafePointer<Float>?, _ aG: UnsafePointer<Float>?, _ channels: Int64,
                                 _ height: Int64, _ width: Int64, _ costOut: UnsafeMutablePointer<Double>?) -> nst_status {
    cost("nst_layer_style_cost", aS, "a_s", aG, "a_g", channels, height, width, costOut) {
        try TutorialCosts.layerStyleCost(style: $0, generated: $1, channels: $2, height: $3, width: $4)
    }
}
