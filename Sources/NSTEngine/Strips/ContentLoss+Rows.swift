/// The content term on a strip window's copy of its layer (see `StripEvaluator.StemLayer`): the target
/// is the whole layer `[C, H, W]`, the features cover the window's rows of it.
extension ContentLoss {
    /// `Σ (F − T)²` over the strip's interior rows (`weight / N` is applied once the strips are summed).
    func uncheckedSquaredError(interiorOf layer: StripEvaluator.StemLayer) -> Double {
        let rows = layer.rows, width = layer.width
        let layerHeight = layer.wholePositions / width
        let interior = rows.interiorInWindow
        var sum = 0.0
        target.withUnsafeBufferPointer { t in
            for c in 0..<layer.channels {
                let f = layer.features + (c * rows.window.count + interior.lowerBound) * width
                let goal = t.baseAddress! + (c * layerHeight + rows.interior.lowerBound) * width
                for j in 0..<(interior.count * width) {
                    let d = f[j] - goal[j]
                    sum += Double(d) * Double(d)
                }
            }
        }
        return sum
    }

    /// Adds `2 · weight · (F − T) / N` over all the window's rows to `gradient` (the window's layer shape).
    func uncheckedAddGradient(window layer: StripEvaluator.StemLayer, to gradient: UnsafeMutablePointer<Float>) {
        let n = target.count
        guard n > 0 else { return }
        let scale = 2 * weight / Float(n)
        let rows = layer.rows.window, width = layer.width
        let layerHeight = layer.wholePositions / width
        target.withUnsafeBufferPointer { t in
            let t = t.baseAddress!
            Parallel.forEach(layer.channels) { c in
                let offset = c * rows.count * width
                let goal = t + (c * layerHeight + rows.lowerBound) * width
                for j in 0..<(rows.count * width) {
                    gradient[offset + j] += scale * (layer.features[offset + j] - goal[j])
                }
            }
        }
    }
}
