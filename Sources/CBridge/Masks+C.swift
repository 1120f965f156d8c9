// The spatial control section of swiftnst.h (masks of the style images and of the generated image).
// Each export's contract is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h.

import CSwiftNST
import NSTEngine

@_cdecl("nst_session_add_style_image_masked")
public func nst_session_add_style_image_masked(_ session: OpaquePointer?, _ image: UnsafePointer<Float>?, _ imageCount: Int64,
                                               _ height: Int64, _ width: Int64, _ blendWeight: Float,
                                               _ mask: UnsafePointer<Float>?, _ maskCount: Int64,
                                               _ region: UnsafePointer<Float>?, _ regionCount: Int64) -> nst_status {
    bridge("nst_session_add_style_image_masked") {
        let handle = try SessionHandle.from(session)
        // The sides' range before the mask is copied: a copy of a mask of sides the engine refuses anyway
        // could exceed memory (a trap), however consistent the counts.
        _ = try imageSide(height, "image height")
        _ = try imageSide(width, "image width")
        let count = try elementCount([3, height, width], "image")
        try checkCount(imageCount, count, "image")
        let pixels = try floats(image, count: count, "image")
        let styleMask = try optionalMask(mask, count: maskCount, expected: count / 3, "mask")
        let c = handle.session.configuration
        let outputRegion = try optionalMask(region, count: regionCount, expected: c.height * c.width, "region")
        try handle.changing {
            try $0.addStyle(image: pixels, height: Int(height), width: Int(width), weight: Double(blendWeight),
                            mask: styleMask, region: outputRegion)
        }
    }
}

@_cdecl("nst_session_set_masks")
public func nst_session_set_masks(_ session: OpaquePointer?, _ contentMask: UnsafePointer<Float>?, _ contentMaskCount: Int64,
                                  _ styleMask: UnsafePointer<Float>?, _ styleMaskCount: Int64) -> nst_status {
    bridge("nst_session_set_masks") {
        let handle = try SessionHandle.from(session)
        let positions = handle.session.configuration.height * handle.session.configuration.width
        let content = try optionalMask(contentMask, count: contentMaskCount, expected: positions, "content_mask")
        let style = try optionalMask(styleMask, count: styleMaskCount, expected: positions, "style_mask")
        try handle.changing { try $0.setMasks(content: content, style: style) }
    }
}

/// A copy of an optional mask argument: nil for NULL, else `expected` values (`count` must say so).
private func optionalMask(_ pointer: UnsafePointer<Float>?, count: Int64, expected: Int, _ name: String) throws -> [Float]? {
    guard let pointer else { return nil }
    try checkCount(count, expected, "\(name)_count")
    return Array(UnsafeBufferPointer(start: pointer, count: expected))
}
