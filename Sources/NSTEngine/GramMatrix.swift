/// The Gram matrix `G = α · F Fᵀ` of features `F` `[channels, positions]` and its backward pass.
public enum GramMatrix {
    /// gram `[channels, channels]` = `alpha · F Fᵀ`.
    ///
    /// The positions are split between the workers, each computing the upper triangle of its part's
    /// Gram matrix (ssyrk: half the multiply-adds of a full product); the parts are then summed and the
    /// triangle mirrored. Splitting the positions rather than the output keeps every worker's share of F
    /// its own (split by output columns, each worker packed all of F: 64 MB per worker for relu1_1 at
    /// 512 px).
    /// - Complexity: channels² · positions / 2 multiply-adds in ssyrk, plus O(channels² · workers).
    public static func forward(features: UnsafePointer<Float>, channels: Int, positions: Int,
                               alpha: Float = 1, gram: UnsafeMutablePointer<Float>) {
        let c = channels
        let parts = max(1, min(Parallel.threadCount, channels * channels * positions / BLAS.parallelThreshold))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts * c * c)
        defer { partial.deallocate() }
        Parallel.forEach(parts) { part in
            let share = Parallel.part(part, of: parts, splitting: positions)
            let target = partial + part * c * c
            if !share.isEmpty {
                BLAS.serialSsyrkUpper(n: c, k: share.count, alpha: alpha, a: features + share.lowerBound, lda: positions,
                                      c: target, ldc: c)
            } else {
                target.update(repeating: 0, count: c * c)
            }
        }
        for i in 0..<c {
            for j in i..<c {
                var sum: Float = 0
                for part in 0..<parts { sum += partial[part * c * c + i * c + j] }
                gram[i * c + j] = sum
                gram[j * c + i] = sum
            }
        }
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
