// The Version section of swiftnst.h. Each export's contract (arguments, statuses, state on error)
// is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h, not repeated here.

import CSwiftNST
import Glibc
import NSTEngine

/// The library version reported by `nst_version_string`.
let libraryVersion: StaticString = "0.1.0"

@_cdecl("nst_abi_version")
public func nst_abi_version() -> Int32 {
    NST_ABI_VERSION
}

@_cdecl("nst_version_string")
public func nst_version_string() -> UnsafePointer<CChar> {
    staticCString(libraryVersion)
}

@_cdecl("nst_blas_info")
public func nst_blas_info() -> UnsafePointer<CChar> {
    blasInfo
}

/// `BLAS.description` as a C string that lives for the whole process (never freed, never written).
nonisolated(unsafe) private let blasInfo: UnsafePointer<CChar> = strdup(BLAS.description).map { UnsafePointer($0) }
    ?? staticCString("unknown BLAS")

/// A static string literal as a C string; literals are NUL-terminated and live for the whole process.
func staticCString(_ string: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(string.utf8Start).assumingMemoryBound(to: CChar.self)
}
