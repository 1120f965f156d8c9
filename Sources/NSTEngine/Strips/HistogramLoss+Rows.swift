/// The histogram term on a strip window's copy of its layer (see `StripEvaluator.StemLayer`): the
/// difference `F − R(F)` is the whole layer's `[C, H, W]`, gathered in the forward pass.
extension HistogramLoss {
    /// Adds `2 · weight · difference / (C·P)` over all the window's rows to `gradient` (the window's layer shape).
    func uncheckedAddGradient(difference: UnsafePointer<Float>, window layer: StripEvaluator.StemLayer,
                              to gradient: UnsafeMutablePointer<Float>) {
        let scale = 2 * weight / Float(channels * positions)
        let rows = layer.rows.window, width = layer.width
        let layerHeight = layer.wholePositions / width
        Parallel.forEach(layer.channels) { c in
            let window = gradient + c * rows.count * width
            let whole = difference + (c * layerHeight + rows.lowerBound) * width
            for j in 0..<(rows.count * width) { window[j] += scale * whole[j] }
        }
    }
}
