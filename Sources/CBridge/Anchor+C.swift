// nst_session_set_anchor, the preview anchor of large renders; its contract is documented at its declaration
// in Sources/CSwiftNST/include/swiftnst.h.

import CSwiftNST
import NSTEngine

@_cdecl("nst_session_set_anchor")
public func nst_session_set_anchor(_ session: OpaquePointer?, _ factor: Int64, _ weight: Float) -> nst_status {
    bridge("nst_session_set_anchor") {
        let handle = try SessionHandle.from(session)
        guard factor == 0 || (Int64(NST_MIN_ANCHOR_FACTOR)...Int64(NST_MAX_ANCHOR_FACTOR)).contains(factor) else {
            throw BridgeError.invalidArgument(
                "anchor factor must be 0 or in \(NST_MIN_ANCHOR_FACTOR)...\(NST_MAX_ANCHOR_FACTOR), got \(factor)")
        }
        try handle.changing { try $0.setAnchor(factor: Int(factor), weight: weight) }
    }
}
