/// The positions of a masked Gram matrix's paths (`GramMatrix` with `weights`): only positions of
/// weight other than 0 are visited, in chunks gathered into a buffer.
///
/// Why: with several styles on regions of the image (`--style-masks`), each style's Gram term covers
/// its region only; visiting every position scaled by its weight did the whole image's products once
/// per style, where the regions together cover it about once.
enum WeightedPositions {
    /// Positions per chunk: the chunk's scaled copy, `[channels, chunk]`, is at most 512 KiB (512 channels),
    /// so no buffer of a layer's size is needed.
    static let chunk = 256

    /// `0..<positions` cut into `parts` consecutive ranges holding nearly equal numbers of positions of
    /// weight other than 0 (so that a region on one side of the image is still shared by every worker).
    static func shares(weights: UnsafePointer<Float>, positions: Int, parts: Int) -> [Range<Int>] {
        guard parts > 1 else { return [0..<positions] }
        var weighted = 0
        for p in 0..<positions where weights[p] != 0 { weighted += 1 }
        var bounds = [0], seen = 0
        for p in 0..<positions where weights[p] != 0 {
            // A share ends before the first weighted position beyond its quota.
            while bounds.count < parts, seen == weighted * bounds.count / parts { bounds.append(p) }
            seen += 1
        }
        while bounds.count <= parts { bounds.append(positions) }
        return (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }
    }

    /// Up to `chunk` positions of weight other than 0 and their columns `[channels, count]` (row stride `count`).
    struct Chunk {
        let positions: UnsafeBufferPointer<Int>
        let columns: UnsafePointer<Float>
        var count: Int { positions.count }
        /// The first position when the chunk's positions are consecutive (its columns then lie side by side
        /// in the layer too), else nil.
        var contiguousStart: Int? {
            guard let first = positions.first, let last = positions.last else { return nil }
            return last - first == count - 1 ? first : nil
        }

        /// Writes (or adds, with `adding`) column j of `values` `[channels, count]` into the position
        /// `positions[j]` of `target`, whose channel c starts at `target + c · planeStride`.
        func scatter(_ values: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, channels: Int,
                     planeStride: Int, adding: Bool) {
            for c in 0..<channels {
                let row = target + c * planeStride, source = values + c * count
                if adding {
                    for j in 0..<count { row[positions[j]] += source[j] }
                } else {
                    for j in 0..<count { row[positions[j]] = source[j] }
                }
            }
        }
    }

    /// Calls `body` with each chunk of `share`'s positions of weight other than 0 (every position without
    /// `weights`), its columns copied from `features` (channel c's positions start at
    /// `features + c · planeStride`) and scaled by `weights[p]`, or by `√weights[p]` with `root`. On the
    /// calling thread only.
    static func forEachChunk(_ features: UnsafePointer<Float>, channels: Int, planeStride: Int, share: Range<Int>,
                             weights: UnsafePointer<Float>?, root: Bool, _ body: (Chunk) -> Void) {
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: channels * chunk)
        defer { columns.deallocate() }
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { scales.deallocate() }
        let positions = UnsafeMutablePointer<Int>.allocate(capacity: chunk)
        defer { positions.deallocate() }
        var count = 0
        func flush() {
            guard count > 0 else { return }
            let taken = Chunk(positions: UnsafeBufferPointer(start: positions, count: count), columns: columns)
            if let start = taken.contiguousStart {
                for c in 0..<channels {
                    let source = features + c * planeStride + start, row = columns + c * count
                    for j in 0..<count { row[j] = source[j] * scales[j] }
                }
            } else {
                for c in 0..<channels {
                    let source = features + c * planeStride, row = columns + c * count
                    for j in 0..<count { row[j] = source[positions[j]] * scales[j] }
                }
            }
            body(taken)
            count = 0
        }
        for p in share {
            let w = weights?[p] ?? 1
            guard w != 0 else { continue }
            positions[count] = p
            scales[count] = root ? w.squareRoot() : w
            count += 1
            if count == chunk { flush() }
        }
        flush()
    }

    /// Sets to 0 the positions of `share` of weight 0 in every channel of `target` (channel c's positions
    /// start at `target + c · planeStride`): those `forEachChunk` skips.
    static func zeroUnweighted(_ target: UnsafeMutablePointer<Float>, channels: Int, planeStride: Int,
                               share: Range<Int>, weights: UnsafePointer<Float>) {
        var runs: [Range<Int>] = [], start: Int?
        for p in share {
            if weights[p] == 0 {
                if start == nil { start = p }
            } else if let first = start {
                runs.append(first..<p)
                start = nil
            }
        }
        if let first = start { runs.append(first..<share.upperBound) }
        guard !runs.isEmpty else { return }
        for c in 0..<channels {
            for run in runs { (target + c * planeStride + run.lowerBound).update(repeating: 0, count: run.count) }
        }
    }
}
