// nst_session_set_temporal_target, the temporal-consistency term of video style transfer; its contract is
// documented at its declaration in Sources/CSwiftNST/include/swiftnst.h.

import CSwiftNST
import NSTEngine

@_cdecl("nst_session_set_temporal_target")
public func nst_session_set_temporal_target(_ session: OpaquePointer?, _ target: UnsafePointer<Float>?, _ targetCount: Int64,
                                            _ weights: UnsafePointer<Float>?, _ weightsCount: Int64) -> nst_status {
    bridge("nst_session_set_temporal_target") {
        let handle = try SessionHandle.from(session)
        switch (target, weights) {
        case (nil, nil):
            try handle.changing { try $0.setTemporalTarget(nil, pixelWeights: nil) }
        case (.some, .some):
            let pixels = try handle.image(target, count: targetCount, "target")
            try checkCount(weightsCount, pixels.count / 3, "weights")
            let pixelWeights = try floats(weights, count: pixels.count / 3, "weights")
            try handle.changing { try $0.setTemporalTarget(pixels, pixelWeights: pixelWeights) }
        default:
            throw BridgeError.invalidArgument("target and weights must both be given, or both NULL to remove the temporal term")
        }
    }
}
