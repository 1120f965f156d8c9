/// Which style loss an objective uses (`StyleTransferSession.Configuration.styleLoss`).
public enum StyleLossKind: Sendable, Equatable, CaseIterable {
    /// Gatys et al.: squared distance of normalised Gram matrices (`StyleLoss`).
    case gram
    /// Wasserstein-2 distance of Gaussians fitted to the features (`WassersteinStyleLoss`).
    case wasserstein2
    /// The Gram loss plus Risser et al.'s per-channel histogram loss at the histogram layers (`HistogramLoss`).
    case gramAndHistogram

    /// The kind's name in the Python API and CLI (`style_loss=`), for messages.
    public var name: String {
        switch self {
        case .gram: "gram"
        case .wasserstein2: "w2"
        case .gramAndHistogram: "gram+histogram"
        }
    }

    /// Spatial masks, gradient normalisation and the Coursera objective are defined on the Gram term alone;
    /// the other kinds refuse them (`NSTError.invalidArgument` "style_loss='w2' does not support `feature`
    /// yet") before any work.
    func checkSupports(_ feature: String) throws {
        guard self == .gram else {
            throw NSTError.invalidArgument("style_loss='\(name)' does not support \(feature) yet")
        }
    }
}

/// The statistics of one layer's activations `F` `[C, P]` a style loss reads, in one buffer of
/// `count(channels:)` floats: the normalised Gram matrix `G/N = F Fᵀ / (C·P)` `[C, C]`, then the channel
/// means `[C]`. Both are sums over positions, so strips add up their shares, and both blend linearly over
/// style images (the mean and second moment of a mixture; covariances would not).
enum LayerMoments {
    static func count(channels: Int) -> Int { channels * channels + channels }

    /// Adds the share of `positions` positions (channel `c`'s start at `features + c · planeStride`) to the
    /// moments of a layer of `wholePositions` positions in `moments`; writes them when not `accumulating`.
    static func accumulate(features: UnsafePointer<Float>, channels: Int, positions: Int, planeStride: Int? = nil,
                           wholePositions: Int, accumulating: Bool, into moments: UnsafeMutablePointer<Float>) {
        GramMatrix.forward(features: features, channels: channels, positions: positions, planeStride: planeStride,
                           alpha: 1 / Float(channels * wholePositions), accumulating: accumulating, gram: moments)
        let means = moments + channels * channels
        let stride = planeStride ?? positions
        Parallel.forEach(channels) { c in
            // A sequential sum waits for each addition (a third of a w2 evaluation's own time at 512 px).
            let share = Float(PairSweeps.sum(features + c * stride, count: positions) / Double(wholePositions))
            means[c] = accumulating ? means[c] + share : share
        }
    }

    /// The moments of a whole layer `[channels, positions]`, or of the positions `region` covers (`[positions]`,
    /// mass > 0): `Σ_p m_p f_p f_pᵀ / (C · Σ m)` and `Σ_p m_p f_p / Σ m` (a style image's mask).
    static func of(features: UnsafePointer<Float>, channels: Int, positions: Int, region: LayerMask? = nil) -> [Float] {
        guard let region else {
            return [Float](unsafeUninitializedCapacity: count(channels: channels)) { buffer, initialized in
                accumulate(features: features, channels: channels, positions: positions, wholePositions: positions,
                           accumulating: false, into: buffer.baseAddress!)
                initialized = buffer.count
            }
        }
        let means = (0..<channels).map { c in
            let plane = features + c * positions
            return Float((0..<positions).reduce(0.0) { $0 + Double(region.values[$1]) * Double(plane[$1]) } / region.mass)
        }
        return StyleLoss.normalizedGram(features: features, channels: channels, positions: positions, region: region) + means
    }
}

/// A style term of one layer computed from the layer's `LayerMoments`: the moments from the features, the
/// loss from the moments, then the gradient with respect to the features from what the loss left in their
/// place. The objective's whole-image and strip evaluations drive every kind the same way; the loss steps
/// of different layers may run at the same time (`StyleTransferObjective.styleLosses(replacingMomentsOf:)`).
protocol LayerStyleLoss: Sendable {
    var channels: Int { get }
    /// Writes the moments of a whole layer's `features` `[channels, positions]` into `moments`
    /// (`LayerMoments.count` floats), as `uncheckedLoss(replacingMoments:)` reads them.
    func uncheckedMoments(features: UnsafePointer<Float>, positions: Int, into moments: UnsafeMutablePointer<Float>)
    /// The loss from the whole layer's `moments` (`LayerMoments` layout), which it replaces by what
    /// `uncheckedGradient` reads. Runs on the calling thread only (no `Parallel` loop inside).
    func uncheckedLoss(replacingMoments moments: UnsafeMutablePointer<Float>) throws -> Double
    /// The gradient `[channels, positions]` with respect to `features` (all of a layer of `wholePositions`
    /// positions, or a strip window's rows of it), written into `gradient` or added to it when `accumulating`.
    func uncheckedGradient(features: UnsafePointer<Float>, positions: Int, wholePositions: Int,
                           moments: UnsafePointer<Float>, accumulating: Bool,
                           into gradient: UnsafeMutablePointer<Float>, scratch: ScratchSpace)
}

extension LayerStyleLoss {
    func uncheckedMoments(features: UnsafePointer<Float>, positions: Int, into moments: UnsafeMutablePointer<Float>) {
        LayerMoments.accumulate(features: features, channels: channels, positions: positions, wholePositions: positions,
                                accumulating: false, into: moments)
    }
}

/// The Gram loss reads the `G/N` part of the moments only, over its masked region when it has one.
extension StyleLoss: LayerStyleLoss {
    func uncheckedMoments(features: UnsafePointer<Float>, positions: Int, into moments: UnsafeMutablePointer<Float>) {
        uncheckedNormalizedGram(features: features, positions: positions, into: moments)
    }

    func uncheckedLoss(replacingMoments moments: UnsafeMutablePointer<Float>) throws -> Double {
        uncheckedLoss(replacingNormalizedGram: moments)
    }

    func uncheckedGradient(features: UnsafePointer<Float>, positions: Int, wholePositions: Int,
                           moments: UnsafePointer<Float>, accumulating: Bool,
                           into gradient: UnsafeMutablePointer<Float>, scratch: ScratchSpace) {
        uncheckedGradient(features: features, positions: positions, gramPositions: wholePositions, gramGradient: moments,
                          accumulating: accumulating, into: gradient, scratch: scratch)
    }
}
