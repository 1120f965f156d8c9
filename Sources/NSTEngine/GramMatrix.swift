/// The Gram matrix `G = α · F Fᵀ` of features `F` `[channels, positions]` and its backward pass.
public enum GramMatrix {
    /// gram `[channels, channels]` = `alpha · F Fᵀ`.
    /// - Complexity: O(channels² · positions) in sgemm.
    public static func forward(features: UnsafePointer<Float>, channels: Int, positions: Int,
                               alpha: Float = 1, gram: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transposeB: true, m: channels, n: channels, k: positions, alpha: alpha,
                   a: features, lda: positions, b: features, ldb: positions, c: gram, ldc: channels)
    }

    /// gradFeatures `[channels, positions]` = `alpha · (gradGram + gradGramᵀ) F`, the gradient of a
    /// scalar `L(G)` with `G = alpha · F Fᵀ`.
    ///
    /// When the caller knows `gradGram` is symmetric (true for every loss on a Gram matrix), pass
    /// `symmetric: true` to skip forming the sum: it is then `2 · alpha · gradGram · F`. With
    /// `accumulating`, the result is added to `gradFeatures` instead of overwriting it.
    public static func backward(features: UnsafePointer<Float>, gradGram: UnsafePointer<Float>,
                                channels: Int, positions: Int, alpha: Float = 1, symmetric: Bool = false,
                                accumulating: Bool = false,
                                gradFeatures: UnsafeMutablePointer<Float>, scratch: ScratchSpace) {
        var g = gradGram
        var scale = 2 * alpha
        if !symmetric {
            let sum = scratch.buffer(0, count: channels * channels)
            for i in 0..<channels {
                for j in 0..<channels { sum[i * channels + j] = gradGram[i * channels + j] + gradGram[j * channels + i] }
            }
            g = UnsafePointer(sum)
            scale = alpha
        }
        BLAS.sgemm(m: channels, n: positions, k: channels, alpha: scale,
                   a: g, lda: channels, b: features, ldb: positions,
                   beta: accumulating ? 1 : 0, c: gradFeatures, ldc: positions)
    }
}
