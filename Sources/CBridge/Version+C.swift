// The Version section of swiftnst.h. Each export's contract (arguments, statuses, state on error)
// is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h, not repeated here.

import CSwiftNST

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

/// A static string literal as a C string; literals are NUL-terminated and live for the whole process.
func staticCString(_ string: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(string.utf8Start).assumingMemoryBound(to: CChar.self)
}
