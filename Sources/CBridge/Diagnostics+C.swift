// The Diagnostics section of swiftnst.h. Each export's contract (arguments, statuses, state on error)
// is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h, not repeated here.

import CSwiftNST

@_cdecl("nst_last_error")
public func nst_last_error() -> UnsafePointer<CChar> {
    LastError.current
}

@_cdecl("nst_status_name")
public func nst_status_name(_ status: nst_status) -> UnsafePointer<CChar> {
    switch status {
    case NST_OK: return staticCString("NST_OK")
    case NST_ERR_INVALID_ARGUMENT: return staticCString("NST_ERR_INVALID_ARGUMENT")
    case NST_ERR_NULL_POINTER: return staticCString("NST_ERR_NULL_POINTER")
    case NST_ERR_INVALID_HANDLE: return staticCString("NST_ERR_INVALID_HANDLE")
    case NST_ERR_SHAPE: return staticCString("NST_ERR_SHAPE")
    case NST_ERR_UNKNOWN_LAYER: return staticCString("NST_ERR_UNKNOWN_LAYER")
    case NST_ERR_IO: return staticCString("NST_ERR_IO")
    case NST_ERR_WEIGHTS_FORMAT: return staticCString("NST_ERR_WEIGHTS_FORMAT")
    case NST_ERR_STATE: return staticCString("NST_ERR_STATE")
    case NST_ERR_CANCELLED: return staticCString("NST_ERR_CANCELLED")
    case NST_ERR_OUT_OF_MEMORY: return staticCString("NST_ERR_OUT_OF_MEMORY")
    case NST_ERR_NUMERIC: return staticCString("NST_ERR_NUMERIC")
    case NST_ERR_INTERNAL: return staticCString("NST_ERR_INTERNAL")
    default: return staticCString("NST_UNKNOWN_STATUS")
    }
}
