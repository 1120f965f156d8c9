// The "Session state" section of swiftnst.h: export and import of a session's optimisation state
// (checkpoints). Each export's contract is documented at its declaration in
// Sources/CSwiftNST/include/swiftnst.h.

import CSwiftNST
import NSTEngine

/// A caller's byte buffer of `size` bytes: `NST_ERR_NULL_POINTER` for NULL, `NST_ERR_SHAPE` for a negative size.
private func byteBuffer(_ pointer: UnsafeMutableRawPointer?, _ size: Int64) throws -> UnsafeMutableRawBufferPointer {
    let start = try required(pointer, "buffer")
    guard size >= 0, let count = Int(exactly: size) else { throw BridgeError.shape("size must be >= 0 bytes, got \(size)") }
    return UnsafeMutableRawBufferPointer(start: start, count: count)
}

@_cdecl("nst_session_state_size")
public func nst_session_state_size(_ session: OpaquePointer?, _ bytesOut: UnsafeMutablePointer<Int64>?) -> nst_status {
    bridge("nst_session_state_size") {
        let handle = try SessionHandle.from(session)
        let out = try required(bytesOut, "bytes_out")
        out.pointee = Int64(handle.reading { $0.stateByteCount })
    }
}

@_cdecl("nst_session_save_state")
public func nst_session_save_state(_ session: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ size: Int64) -> nst_status {
    bridge("nst_session_save_state") {
        let handle = try SessionHandle.from(session)
        let destination = try byteBuffer(buffer, size)
        try handle.reading { try $0.exportState(into: destination) }
    }
}

@_cdecl("nst_session_load_state")
public func nst_session_load_state(_ session: OpaquePointer?, _ buffer: UnsafeRawPointer?, _ size: Int64) -> nst_status {
    bridge("nst_session_load_state") {
        let handle = try SessionHandle.from(session)
        // Only read: the buffer is viewed as mutable to share the checks with nst_session_save_state.
        let source = UnsafeRawBufferPointer(try byteBuffer(UnsafeMutableRawPointer(mutating: buffer), size))
        try handle.changing { try $0.importState(source) }
    }
}
