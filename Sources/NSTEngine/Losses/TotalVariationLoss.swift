/// Total variation smoothness term of an image `x` `[C, H, W]`:
/// `weight · 0.5 · Σ_c Σ_ij [(x[c,i,j+1] − x[c,i,j])² + (x[c,i+1,j] − x[c,i,j])²]`.
public struct TotalVariationLoss: Sendable {
    public var weight: Float

    public init(weight: Float) { self.weight = weight }

    /// Writes the gradient (overwriting) and returns the loss. Parallel over channels.
    func uncheckedEvaluate(image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                           gradient: UnsafeMutablePointer<Float>) -> Double {
        var partial = [Double](repeating: 0, count: channels)
        partial.withUnsafeMutableBufferPointer { partial in
            let sums = partial.baseAddress!
            Parallel.forEach(channels) { c in
                let x = image + c * height * width
                let g = gradient + c * height * width
                g.update(repeating: 0, count: height * width)
                var sum = 0.0
                for i in 0..<height {
                    for j in 0..<width {
                        let here = i * width + j
                        // Each difference d = x[next] − x[here] adds weight·d to next and subtracts it from here.
                        if j + 1 < width {
                            let d = x[here + 1] - x[here]
                            sum += Double(d) * Double(d)
                            g[here + 1] += weight * d
                            g[here] -= weight * d
                        }
                        if i + 1 < height {
                            let d = x[here + width] - x[here]
                            sum += Double(d) * Double(d)
                            g[here + width] += weight * d
                            g[here] -= weight * d
                        }
                    }
                }
                sums[c] = sum
            }
        }
        return Double(weight) * 0.5 * partial.reduce(0, +)
    }
}
