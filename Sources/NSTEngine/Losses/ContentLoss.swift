/// Content term of one layer: `weight · mean((F − T)²)` over the layer's `C·H·W` activations.
///
/// With a `mask` (at the layer's resolution), each position's squared errors count `m_p` times, still
/// divided by `C·H·W`: the mask weights where the content is kept, and an all-ones mask is no mask.
public struct ContentLoss: Sendable {
    /// Already includes the global content weight and the layer's weight.
    public var weight: Float
    /// Activations `F_l(c)` of the content image, `[C, H, W]` flattened.
    public let target: [Float]
    /// Per position `[H · W]` of the layer, nil for all ones.
    let mask: LayerMask?
    /// neural-style's `-normalize_gradients` (see `StyleLoss.normalizesGradient`).
    let normalizesGradient: Bool

    public init(weight: Float, target: [Float]) {
        self.init(weight: weight, target: target, mask: nil, normalizesGradient: false)
    }

    init(weight: Float, target: [Float], mask: LayerMask?, normalizesGradient: Bool) {
        self.weight = weight
        self.target = target
        self.mask = mask
        self.normalizesGradient = normalizesGradient
    }

    /// `weight · Σ m (F − T)² / N`.
    func uncheckedLoss(features: UnsafePointer<Float>) -> Double {
        loss(fromSquaredError: weightedSum(features) { d in Double(d) * Double(d) })
    }

    /// `weight · sum / N`: the loss from the sum of squared errors over the whole layer.
    func loss(fromSquaredError sum: Double) -> Double {
        target.isEmpty ? 0 : Double(weight) * sum / Double(target.count)
    }

    /// Adds the loss's gradient with respect to the features, `2 · weight · m (F − T) / N`, to `gradient`
    /// (normalised to `weight · d / (‖d‖₁ + 1e-8)` of `d = 2 m (F − T) / N` with `normalizesGradient`).
    func uncheckedAddGradient(features: UnsafePointer<Float>, to gradient: UnsafeMutablePointer<Float>) {
        let n = target.count
        guard n > 0 else { return }
        var scale = 2 * weight / Float(n)
        if normalizesGradient {
            let norm = Double(scale) * weightedSum(features) { Double(abs($0)) }
            scale *= StyleLoss.normalizingFactor(weight: weight, l1Norm: norm)
        }
        let positions = mask?.values.count ?? n
        target.withUnsafeBufferPointer { t in
            let t = t.baseAddress!
            withMask { m in
                Parallel.forEachRange(n) { range in
                    for i in range { gradient[i] += scale * (m?[i % positions] ?? 1) * (features[i] - t[i]) }
                }
            }
        }
    }

    /// `Σ m_p · term(F − T)` over the layer.
    private func weightedSum(_ features: UnsafePointer<Float>, _ term: (Float) -> Double) -> Double {
        let positions = mask?.values.count ?? target.count
        var sum = 0.0
        target.withUnsafeBufferPointer { t in
            withMask { m in
                for i in 0..<target.count { sum += Double(m?[i % positions] ?? 1) * term(features[i] - t[i]) }
            }
        }
        return sum
    }

    private func withMask<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let mask else { return body(nil) }
        return mask.values.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
