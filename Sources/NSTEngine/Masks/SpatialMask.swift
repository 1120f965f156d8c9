/// A weighting of an image's positions by values in `[0, 1]` (a spatial mask, Gatys et al. 2017,
/// "Controlling Perceptual Factors in Neural Style Transfer"), carried to the resolution of the layers
/// that use it.
///
/// Propagation: a 3×3 convolution (padding 1) and a ReLU keep a layer's positions, so they keep the
/// mask; a 2×2 pooling halves them, and the mask is averaged over the same 2×2 windows (floor, as the
/// pooling drops an odd last row or column). The mask of a deep layer is thus the share of each of its
/// positions' input block that the mask covers, the "simple downsampling" propagation of the paper.
public struct SpatialMask: Sendable, Equatable {
    /// The mask at the image's resolution, `[height · width]`.
    public let values: [Float]
    public let height: Int
    public let width: Int

    /// - Throws: `NSTError.shape` (a side outside `1...StyleTransferObjective.maxImageSide`, or not
    ///   `height · width` values), `.invalidArgument` (a value that is not
    ///   finite or outside `[0, 1]`), naming the mask as `what`.
    public init(values: [Float], height: Int, width: Int, _ what: String) throws {
        let sides = 1...StyleTransferObjective.maxImageSide  // also keeps height · width from overflowing
        guard sides.contains(height), sides.contains(width) else {
            throw NSTError.shape("\(what) sides must be \(sides.lowerBound)...\(sides.upperBound), got \(height)x\(width)")
        }
        guard values.count == height * width else {
            throw NSTError.shape("\(what) must hold \(height)x\(width) = \(height * width) values, got \(values.count)")
        }
        guard values.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
            throw NSTError.invalidArgument("\(what) values must be finite and in [0, 1]")
        }
        self.values = values
        self.height = height
        self.width = width
    }

    /// The mask averaged over `factor × factor` blocks (the preview anchor's size).
    func downsampled(by factor: Int) -> SpatialMask {
        let (h, w) = (height / factor, width / factor)
        var result = [Float](repeating: 0, count: h * w)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer {
                BoxDownsampling.average(source.baseAddress!, channels: 1, height: height, width: width, factor: factor,
                                        into: $0.baseAddress!)
            }
        }
        return SpatialMask(checked: result, height: h, width: w)
    }

    private init(checked values: [Float], height: Int, width: Int) {
        (self.values, self.height, self.width) = (values, height, width)
    }

    /// The mask at the resolution of each of `layers` of `network` (propagated as described above).
    /// - Throws: `NSTError.shape` when the mask's size cannot reach the deepest layer.
    func atLayers(_ layers: [Int], of network: FeatureNetwork) throws -> [Int: LayerMask] {
        guard let deepest = layers.max() else { return [:] }
        let shapes = try network.shapes(upTo: deepest, height: height, width: width)
        var current = self
        var result: [Int: LayerMask] = [:]
        for index in 0...deepest {
            if network.layers[index].operation == .pool { current = current.downsampled(by: 2) }
            assert(current.height == shapes[index].height && current.width == shapes[index].width)
            if layers.contains(index) { result[index] = LayerMask(values: current.values) }
        }
        return result
    }
}

/// A mask at one layer's resolution, `[height · width]` of that layer, with its mass `Σ m`.
struct LayerMask: Sendable, Equatable {
    let values: [Float]
    /// `Σ m`: the number of positions the mask covers, fractions counted as such.
    let mass: Double

    init(values: [Float]) {
        self.values = values
        mass = values.reduce(0.0) { $0 + Double($1) }
    }
}
