/// The Gram matrix `G = α · F Fᵀ` of features `F` `[channels, positions]` and its backward pass.
public enum GramMatrix {
    /// gram `[channels, channels]` = `alpha · F Fᵀ`.
    ///
    /// The positions are split between the workers, each computing the upper triangle of its part's
    /// Gram matrix (ssyrk: half the multiply-adds of a full product); the parts are then summed and the
    /// triangle mirrored. Splitting the positions rather than the output keeps every worker's share of F
    /// its own (split by output columns, each worker packed all of F: 64 MB per worker for relu1_1 at
    /// 512 px).
    ///
    /// With `planeStride` (default `positions`), channel c's positions start at `features + c · planeStride`:
    /// a range of rows of a `[channels, rows, width]` layer. With `accumulating`, the product is added to
    /// `gram` (a strip's share of a Gram matrix summed over strips). With `weights` `[positions]` (>= 0),
    /// position p counts `weights[p]` times: `alpha · Σ_p w_p f_p f_pᵀ`, the Gram matrix of a masked region.
    /// - Complexity: channels² · positions / 2 multiply-adds in ssyrk, plus O(channels² · workers).
    public static func forward(features: UnsafePointer<Float>, channels: Int, positions: Int, planeStride: Int? = nil,
                               weights: UnsafePointer<Float>? = nil,
                               alpha: Float = 1, accumulating: Bool = false, gram: UnsafeMutablePointer<Float>) {
        LayerProfiler.measure(.gramForward) {
            let c = channels
            let parts = max(1, min(Parallel.threadCount, channels * channels * positions / BLAS.parallelThreshold))
            // Part 0 writes into `gram` itself; the others into `partial`, added row by row below.
            let partial = UnsafeMutablePointer<Float>.allocate(capacity: (parts - 1) * c * c)
            defer { partial.deallocate() }
            let shares = weights.map { WeightedPositions.shares(weights: $0, positions: positions, parts: parts) }
            Parallel.forEach(parts) { part in
                let share = shares?[part] ?? Parallel.part(part, of: parts, splitting: positions)
                let target = part == 0 ? gram : partial + (part - 1) * c * c
                let beta: Float = part == 0 && accumulating ? 1 : 0
                if let weights {
                    if beta == 0 { target.update(repeating: 0, count: c * c) }
                    // Each chunk's columns scaled by √w, so that their product carries w once.
                    WeightedPositions.forEachChunk(features, channels: c, planeStride: planeStride ?? positions,
                                                   share: share, weights: weights, root: true) { chunk in
                        BLAS.serialSsyrkUpper(n: c, k: chunk.count, alpha: alpha, a: chunk.columns, lda: chunk.count,
                                              beta: 1, c: target, ldc: c)
                    }
                } else if !share.isEmpty {
                    BLAS.serialSsyrkUpper(n: c, k: share.count, alpha: alpha, a: features + share.lowerBound,
                                          lda: planeStride ?? positions, beta: beta, c: target, ldc: c)
                } else if beta == 0 {
                    target.update(repeating: 0, count: c * c)
                }
            }
            for part in 0..<(parts - 1) {
                for i in 0..<c {
                    let row = gram + i * c, other = partial + part * c * c + i * c
                    for j in i..<c { row[j] += other[j] }
                }
            }
            mirrorUpperTriangle(gram, order: c)
        }
    }

    /// Copies the upper triangle of the square matrix `m` `[order, order]` onto its lower one, in tiles
    /// small enough that the column-wise writes stay in L1 (element by element, each write of a column
    /// touched a new cache line).
    private static func mirrorUpperTriangle(_ m: UnsafeMutablePointer<Float>, order n: Int) {
        let tile = 32
        for top in stride(from: 0, to: n, by: tile) {
            let rows = top..<min(n, top + tile)
            // The tiles from the diagonal rightwards in this band of rows, each written into its mirror.
            for left in stride(from: top, to: n, by: tile) {
                for i in rows {
                    for j in max(i + 1, left)..<min(n, left + tile) { m[j * n + i] = m[i * n + j] }
                }
            }
        }
    }

    /// gradFeatures `[channels, positions]` = `alpha · (gradGram + gradGramᵀ) F`, the gradient of a
    /// scalar `L(G)` with `G = alpha · F Fᵀ`.
    ///
    /// When the caller knows `gradGram` is symmetric (true for every loss on a Gram matrix), pass
    /// `symmetric: true` to skip forming the sum: it is then `2 · alpha · gradGram · F`. With
    /// `accumulating`, the result is added to `gradFeatures` instead of overwriting it. With `weights`
    /// (as in `forward`), column p is also multiplied by `weights[p]`.
    public static func backward(features: UnsafePointer<Float>, gradGram: UnsafePointer<Float>,
                                channels: Int, positions: Int, weights: UnsafePointer<Float>? = nil,
                                alpha: Float = 1, symmetric: Bool = false, accumulating: Bool = false,
                                gradFeatures: UnsafeMutablePointer<Float>, scratch: ScratchSpace) {
        LayerProfiler.measure(.gramBackward) {
            let (g, scale) = symmetrized(gradGram, channels: channels, alpha: alpha, symmetric: symmetric, scratch: scratch)
            guard let weights else {
                BLAS.sgemm(m: channels, n: positions, k: channels, alpha: scale,
                           a: g, lda: channels, b: features, ldb: positions,
                           beta: accumulating ? 1 : 0, c: gradFeatures, ldc: positions)
                return
            }
            let workers = max(1, min(Parallel.threadCount, positions / WeightedPositions.chunk))
            let shares = WeightedPositions.shares(weights: weights, positions: positions, parts: workers)
            Parallel.forEach(workers) { worker in
                if !accumulating {  // the positions the chunks skip get no gradient
                    WeightedPositions.zeroUnweighted(gradFeatures, channels: channels, planeStride: positions,
                                                     share: shares[worker], weights: weights)
                }
                let product = UnsafeMutablePointer<Float>.allocate(capacity: channels * WeightedPositions.chunk)
                defer { product.deallocate() }
                WeightedPositions.forEachChunk(features, channels: channels, planeStride: positions,
                                               share: shares[worker], weights: weights, root: false) { chunk in
                    if let start = chunk.contiguousStart {
                        BLAS.serialSgemm(m: channels, n: chunk.count, k: channels, alpha: scale, a: g, lda: channels,
                                         b: chunk.columns, ldb: chunk.count, beta: accumulating ? 1 : 0,
                                         c: gradFeatures + start, ldc: positions)
                    } else {
                        BLAS.serialSgemm(m: channels, n: chunk.count, k: channels, alpha: scale, a: g, lda: channels,
                                         b: chunk.columns, ldb: chunk.count, c: product, ldc: chunk.count)
                        chunk.scatter(product, into: gradFeatures, channels: channels, planeStride: positions,
                                      adding: accumulating)
                    }
                }
            }
        }
    }

    /// `Σ |gradFeatures|` of `backward` with the same arguments, computed without a buffer of the
    /// features' size (chunk by chunk); for the per-layer gradient normalisation.
    public static func backwardL1Norm(features: UnsafePointer<Float>, gradGram: UnsafePointer<Float>,
                                      channels: Int, positions: Int, weights: UnsafePointer<Float>? = nil,
                                      alpha: Float = 1, symmetric: Bool = false, scratch: ScratchSpace) -> Double {
        let (g, scale) = symmetrized(gradGram, channels: channels, alpha: alpha, symmetric: symmetric, scratch: scratch)
        let workers = max(1, min(Parallel.threadCount, positions / WeightedPositions.chunk))
        let shares = weights.map { WeightedPositions.shares(weights: $0, positions: positions, parts: workers) }
        var sums = [Double](repeating: 0, count: workers)
        sums.withUnsafeMutableBufferPointer { sums in
            Parallel.forEach(workers) { worker in
                let product = UnsafeMutablePointer<Float>.allocate(capacity: channels * WeightedPositions.chunk)
                defer { product.deallocate() }
                var sum = 0.0
                WeightedPositions.forEachChunk(features, channels: channels, planeStride: positions,
                                               share: shares?[worker] ?? Parallel.part(worker, of: workers, splitting: positions),
                                               weights: weights, root: false) { chunk in
                    BLAS.serialSgemm(m: channels, n: chunk.count, k: channels, alpha: scale, a: g, lda: channels,
                                     b: chunk.columns, ldb: chunk.count, c: product, ldc: chunk.count)
                    // Magnitudes first (one vector loop), then a SIMD Double sum: a running Double sum over
                    // the products waited on each addition (see bench/RESULTS.md, normalize_gradients).
                    let count = channels * chunk.count
                    for i in 0..<count { product[i] = abs(product[i]) }
                    sum += PairSweeps.sum(product, count: count)
                }
                sums[worker] = sum
            }
        }
        return sums.reduce(0, +)
    }

    /// The Gram gradient backward multiplies by, and its scale: `gradGram` itself with `2 · alpha` when
    /// symmetric, else `gradGram + gradGramᵀ` (in scratch) with `alpha`.
    private static func symmetrized(_ gradGram: UnsafePointer<Float>, channels: Int, alpha: Float, symmetric: Bool,
                                    scratch: ScratchSpace) -> (UnsafePointer<Float>, Float) {
        if symmetric { return (gradGram, 2 * alpha) }
        let sum = scratch.buffer(.gramGradientSum, count: channels * channels)
        for i in 0..<channels {
            for j in 0..<channels { sum[i * channels + j] = gradGram[i * channels + j] + gradGram[j * channels + i] }
        }
        return (UnsafePointer(sum), alpha)
    }
}
