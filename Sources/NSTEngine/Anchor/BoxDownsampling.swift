/// Downsampling by an integer factor that averages each `factor × factor` block of pixels, and its
/// adjoint. A linear map `D`, so the gradient of `f(D x)` is `Dᵀ ∇f`: every pixel of a block receives
/// `1/factor²` of the block's gradient.
enum BoxDownsampling {
    /// Averages `image` `[channels, height, width]` into `output` `[channels, height/factor, width/factor]`;
    /// rows and columns beyond the last whole block are left out (at most `factor − 1` of each).
    /// `factor` >= 1; the caller checks the sizes.
    static func average(_ image: UnsafePointer<Float>, channels: Int, height: Int, width: Int, factor: Int,
                        into output: UnsafeMutablePointer<Float>) {
        let (outHeight, outWidth) = (height / factor, width / factor)
        let scale = 1 / Float(factor * factor)
        for c in 0..<channels {
            let plane = image + c * height * width
            let outPlane = output + c * outHeight * outWidth
            for y in 0..<outHeight {
                let outRow = outPlane + y * outWidth
                outRow.update(repeating: 0, count: outWidth)
                for dy in 0..<factor {
                    let row = plane + (y * factor + dy) * width
                    for x in 0..<outWidth {
                        var sum: Float = 0
                        for dx in 0..<factor { sum += row[x * factor + dx] }
                        outRow[x] += sum
                    }
                }
                for x in 0..<outWidth { outRow[x] *= scale }
            }
        }
    }

    /// Adds `weight · Dᵀ gradient` into `output` `[channels, height, width]`: each value of `gradient`
    /// `[channels, height/factor, width/factor]`, times `weight / factor²`, into every pixel of its block.
    static func addAdjoint(of gradient: UnsafePointer<Float>, channels: Int, height: Int, width: Int, factor: Int,
                           weight: Float, into output: UnsafeMutablePointer<Float>) {
        let (smallHeight, smallWidth) = (height / factor, width / factor)
        let scale = weight / Float(factor * factor)
        for c in 0..<channels {
            let smallPlane = gradient + c * smallHeight * smallWidth
            let plane = output + c * height * width
            for y in 0..<smallHeight {
                let smallRow = smallPlane + y * smallWidth
                for dy in 0..<factor {
                    let row = plane + (y * factor + dy) * width
                    for x in 0..<smallWidth {
                        let value = scale * smallRow[x]
                        for dx in 0..<factor { row[x * factor + dx] += value }
                    }
                }
            }
        }
    }
}
