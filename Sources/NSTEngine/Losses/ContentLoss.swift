/// Content term of one layer: `weight · mean((F − T)²)` over the layer's `C·H·W` activations.
public struct ContentLoss: Sendable {
    /// Already includes the global content weight and the layer's weight.
    public var weight: Float
    /// Activations `F_l(c)` of the content image, `[C, H, W]` flattened.
    public let target: [Float]

    public init(weight: Float, target: [Float]) {
        self.weight = weight
        self.target = target
    }

    /// `weight · Σ(F − T)² / N`.
    func uncheckedLoss(features: UnsafePointer<Float>) -> Double {
        let n = target.count
        guard n > 0 else { return 0 }
        var sum = 0.0
        target.withUnsafeBufferPointer { t in
            for i in 0..<n {
                let d = features[i] - t[i]
                sum += Double(d) * Double(d)
            }
        }
        return loss(fromSquaredError: sum)
    }

    /// `weight · sum / N`: the loss from the sum of squared errors over the whole layer.
    func loss(fromSquaredError sum: Double) -> Double {
        target.isEmpty ? 0 : Double(weight) * sum / Double(target.count)
    }

    /// Adds the loss's gradient with respect to the features, `2 · weight · (F − T) / N`, to `gradient`.
    func uncheckedAddGradient(features: UnsafePointer<Float>, to gradient: UnsafeMutablePointer<Float>) {
        let n = target.count
        guard n > 0 else { return }
        let scale = 2 * weight / Float(n)
        target.withUnsafeBufferPointer { t in
            let t = t.baseAddress!
            Parallel.forEachRange(n) { range in
                for i in range { gradient[i] += scale * (features[i] - t[i]) }
            }
        }
    }
}
