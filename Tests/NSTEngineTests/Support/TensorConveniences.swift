@testable import NSTEngine

// The array- and `Tensor`-based forms of the engine's unchecked buffer functions that the tests call: each
// checks the sizes the engine's callers guarantee, then runs the production code on the arrays' storage.

extension StyleTransferObjective {
    /// Convenience over `evaluate(image:gradient:)` for a `Tensor` `[3, height, width]`.
    func evaluate(image: Tensor) throws -> (losses: ObjectiveLosses, gradient: [Float]) {
        guard image.channels == 3, image.height == height, image.width == width else {
            throw NSTError.shape("image must be [3, \(height), \(width)], got [\(image.channels), \(image.height), \(image.width)]")
        }
        var gradient = [Float](repeating: 0, count: image.count)
        let losses = try image.storage.withUnsafeBufferPointer { x in
            try gradient.withUnsafeMutableBufferPointer { g in try evaluate(image: x, gradient: g) }
        }
        return (losses, gradient)
    }
}

extension StyleLoss {
    /// Loss and gradient with respect to `features` (a `Tensor` whose channel count is `channels`).
    /// - Throws: `NSTError.shape` when the channel counts differ.
    func evaluate(features: Tensor) throws -> (loss: Double, gradient: [Float]) {
        guard features.channels == channels, features.count > 0 else {
            throw NSTError.shape("style features have \(features.channels) channels, target \(channels)")
        }
        var gradient = [Float](repeating: 0, count: features.count)
        var gramGradient = [Float](repeating: 0, count: channels * channels)
        let positions = features.height * features.width
        let loss = features.storage.withUnsafeBufferPointer { f in
            gramGradient.withUnsafeMutableBufferPointer { gg in
                uncheckedNormalizedGram(features: f.baseAddress!, positions: positions, into: gg.baseAddress!)
                let loss = uncheckedLoss(replacingNormalizedGram: gg.baseAddress!)
                gradient.withUnsafeMutableBufferPointer { g in
                    uncheckedGradient(features: f.baseAddress!, positions: positions, gramGradient: gg.baseAddress!,
                                      accumulating: false, into: g.baseAddress!, scratch: ScratchSpace())
                }
                return loss
            }
        }
        return (loss, gradient)
    }
}

extension LayerStyleLoss {
    /// Loss and gradient with respect to `features` through the layer's moments, as the objective drives it.
    /// - Throws: `NSTError.shape` when the channel counts differ; the loss's own errors.
    func evaluateThroughMoments(features: Tensor) throws -> (loss: Double, gradient: [Float]) {
        guard features.channels == channels, features.count > 0 else {
            throw NSTError.shape("style features have \(features.channels) channels, target \(channels)")
        }
        let positions = features.height * features.width
        var moments = features.storage.withUnsafeBufferPointer {
            LayerMoments.of(features: $0.baseAddress!, channels: channels, positions: positions)
        }
        let loss = try moments.withUnsafeMutableBufferPointer { try uncheckedLoss(replacingMoments: $0.baseAddress!) }
        var gradient = [Float](repeating: 0, count: features.count)
        features.storage.withUnsafeBufferPointer { f in
            gradient.withUnsafeMutableBufferPointer { g in
                uncheckedGradient(features: f.baseAddress!, positions: positions, wholePositions: positions,
                                  moments: moments, accumulating: false, into: g.baseAddress!, scratch: ScratchSpace())
            }
        }
        return (loss, gradient)
    }
}

extension HistogramLoss {
    /// Loss and gradient `2·weight·(F − R(F))/N` for `features` `[channels, positions]`.
    func evaluate(features: [Float]) -> (loss: Double, gradient: [Float]) {
        precondition(features.count == channels * positions, "histogram features of the target's size")
        var difference = [Float](repeating: .nan, count: features.count)
        let loss = difference.withUnsafeMutableBufferPointer { uncheckedLoss(features: features, difference: $0.baseAddress!) }
        var gradient = [Float](repeating: 0, count: features.count)
        gradient.withUnsafeMutableBufferPointer { uncheckedAddGradient(difference: difference, to: $0.baseAddress!) }
        return (loss, gradient)
    }
}

extension TotalVariationLoss {
    /// Loss and gradient with respect to `image`.
    func evaluate(image: Tensor) -> (loss: Double, gradient: [Float]) {
        var gradient = [Float](repeating: 0, count: image.count)
        guard image.count > 0 else { return (0, gradient) }
        let loss = image.storage.withUnsafeBufferPointer { x in
            gradient.withUnsafeMutableBufferPointer { g in
                uncheckedEvaluate(image: x.baseAddress!, channels: image.channels, height: image.height,
                                  width: image.width, gradient: g.baseAddress!)
            }
        }
        return (loss, gradient)
    }
}

extension ContentLoss {
    /// Loss and gradient `2·weight·(F − T)/N` for `features` of the target's size.
    /// - Throws: `NSTError.shape` when the sizes differ.
    func evaluate(features: [Float]) throws -> (loss: Double, gradient: [Float]) {
        guard features.count == target.count else {
            throw NSTError.shape("content features hold \(features.count) values, target \(target.count)")
        }
        var gradient = [Float](repeating: 0, count: features.count)
        let loss = features.withUnsafeBufferPointer { f in
            gradient.withUnsafeMutableBufferPointer { g in
                uncheckedAddGradient(features: f.baseAddress!, to: g.baseAddress!)
                return uncheckedLoss(features: f.baseAddress!)
            }
        }
        return (loss, gradient)
    }
}

extension NetworkEvaluation {
    /// A copy of the activation of a layer requested in the last forward pass.
    func activation(layer index: Int) throws -> Tensor {
        try withActivation(layer: index) { values in
            let s = shape(ofLayer: index)!
            return try Tensor(channels: s.channels, height: s.height, width: s.width, storage: Array(values))
        }
    }
}
