// The "Session state" section of swiftnst.h: export and import of a session's optimisation state
// (checkpoints). Each export's contract is documented at its declaration in
// Sources/CSwiftNST/include/swiftnst.h.

import CSwiftNST
import NSTEngine

/// A caller's byte count as an `Int`, refused when negative.
private func byteCount(_ size: Int64, _ name: String) throws -> Int {
    guard size >= 0, let count = Int(exactly: size) else {
        throw BridgeError.shape("\(name) must be >= 0 bytes, got \(size)")
    }
    return count
}

@_cdecl("nst_session_state_size")
public func nst_session_state_size(_ session: OpaquePointer?, _ bytesOut: UnsafeMutablePointer<Int64>?) -> nst_status {
    bridge("nst_session_state_size") {
        let handle = try SessionHandle.from(session)
        let out = try required(bytesOut, "bytes_out")
        out.pointee = Int64(handle.withLock { $0.stateByteCount })
    }
}

@_cdecl("nst_session_save_state")
public func nst_session_save_state(_ session: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ size: Int64) -> nst_status {
    bridge("nst_session_save_state") {
        let handle = try SessionHandle.from(session)
        let count = try byteCount(size, "size")
        let destination = UnsafeMutableRawBufferPointer(start: try required(buffer, "buffer"), count: count)
        try handle.withLock { try $0.exportState(into: destination) }
    }
}

@_cdecl("nst_session_load_state")
public func nst_session_load_state(_ session: OpaquePointer?, _ buffer: UnsafeRawPointer?, _ size: Int64) -> nst_status {
    bridge("nst_session_load_state") {
        let handle = try SessionHandle.from(session)
        let count = try byteCount(size, "size")
        let source = UnsafeRawBufferPointer(start: try required(buffer, "buffer"), count: count)
        try handle.withLock { try $0.importState(source) }
    }
}
