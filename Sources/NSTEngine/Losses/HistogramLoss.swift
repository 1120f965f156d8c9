/// Histogram term of one layer (Risser et al. 2017, "Stable and Controllable Neural Texture Synthesis and
/// Style Transfer Using Histogram Losses"): `weight · mean((F − R(F))²)` over the layer's `C·P` activations,
/// where `R` remaps each channel onto the style's histogram by exact (sort-based) histogram matching: the
/// value of rank `r` among the channel's `P` values becomes the style's quantile at rank `r`. As in the
/// paper, the gradient treats `R(F)` as a constant: `2 · weight · (F − R(F)) / (C·P)`.
///
/// The Gram loss matches second moments only; the histogram loss fixes what they leave free (Risser's
/// instabilities: washed-out or over-saturated areas with the right Gram matrix).
public struct HistogramLoss: Sendable {
    /// Already includes the global histogram weight and the layer's weight.
    public var weight: Float
    public let channels: Int
    /// Positions of the layer at the objective's size.
    public let positions: Int
    /// Per channel, the style's quantile for each rank `0..<positions` (ascending), `[C, P]`.
    public let quantiles: [Float]

    /// - Throws: `NSTError.shape` when `quantiles` is not `channels x positions`, or when a channel has
    ///   more positions than the remap's 32-bit positions and counts hold (`HistogramRanking`).
    public init(weight: Float, channels: Int, positions: Int, quantiles: [Float]) throws {
        guard channels > 0, positions > 0, quantiles.count == channels * positions else {
            throw NSTError.shape("histogram target must hold \(channels)x\(positions) values, got \(quantiles.count)")
        }
        guard positions <= Int(UInt32.max) else {
            throw NSTError.shape("histogram layer of \(positions) positions, more than the \(UInt32.max) its remap can rank")
        }
        self.weight = weight
        self.channels = channels
        self.positions = positions
        self.quantiles = quantiles
    }

    /// The quantiles of each channel of a style layer `features` `[channels, styleCount]` at `count` ranks:
    /// rank `r` reads the sorted values at `(r + ½)·styleCount/count − ½`, linearly interpolated (the
    /// sorted values themselves when the counts are equal, so a style at the output's size is matched exactly).
    static func quantiles(of features: UnsafePointer<Float>, channels: Int, styleCount: Int, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: channels * count) { buffer, initialized in
            let out = buffer.baseAddress!
            Parallel.forEach(channels) { c in
                let sorted = UnsafeBufferPointer(start: features + c * styleCount, count: styleCount).sorted()
                let scale = Double(styleCount) / Double(count)
                for r in 0..<count {
                    let t = min(max((Double(r) + 0.5) * scale - 0.5, 0), Double(styleCount - 1))
                    let below = Int(t), fraction = Float(t - Double(below))
                    let above = min(below + 1, styleCount - 1)
                    out[c * count + r] = sorted[below] + fraction * (sorted[above] - sorted[below])
                }
            }
            initialized = channels * count
        }
    }

    /// `Σ_s b_s · quantiles[s]` with the blend weights rescaled to sum to 1 (the quantile functions'
    /// average: the 1-D Wasserstein barycentre of the styles' histograms). One image's table is returned
    /// as it is, without a copy.
    static func blend(_ tables: [[Float]], weights: [Double]) throws -> [Float] {
        if tables.count == 1, weights.count == 1, weights[0] > 0 { return tables[0] }
        return try StyleLoss.blend(tables, weights: weights)
    }

    /// Writes `F − R(F)` of the layer's activations `features` `[channels, positions]` into `difference`
    /// (the same shape; `features` itself to replace them) and returns the loss. Ties keep their order of
    /// position (see `HistogramRanking`, which does the work per channel).
    func uncheckedLoss(features: UnsafePointer<Float>, difference: UnsafeMutablePointer<Float>) -> Double {
        let p = positions
        var sums = [Double](repeating: 0, count: channels)
        quantiles.withUnsafeBufferPointer { q in
            let q = q.baseAddress!
            sums.withUnsafeMutableBufferPointer { buffer in
                let channelSums = buffer.baseAddress!
                // One range of channels per worker, so each worker allocates its buffers once.
                Parallel.forEachRange(channels, minimumChunk: 1) { range in
                    let ranking = HistogramRanking(capacity: p)
                    for c in range {
                        channelSums[c] = ranking.remap(features + c * p, into: difference + c * p, count: p, onto: q + c * p)
                    }
                }
            }
        }
        return Double(weight) * sums.reduce(0, +) / Double(channels * p)
    }

    /// Adds `2 · weight · difference / (C·P)` to `gradient` (both `[channels, positions]`).
    func uncheckedAddGradient(difference: UnsafePointer<Float>, to gradient: UnsafeMutablePointer<Float>) {
        let scale = 2 * weight / Float(channels * positions)
        Parallel.forEachRange(channels * positions) { range in
            for i in range { gradient[i] += scale * difference[i] }
        }
    }
}
