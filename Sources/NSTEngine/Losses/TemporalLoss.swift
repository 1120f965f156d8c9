/// The temporal-consistency term of video style transfer (Ruder, Dosovitskiy and Brox 2016, "Artistic
/// style transfer for videos", eq. 7): a squared distance of the image `x` `[3, H, W]` to a target `t`
/// (the previous frame's result warped to this frame by optical flow) with a weight per pixel `w`
/// `[H, W]` (0 where the flow is unreliable: occlusions, motion boundaries):
/// `(1 / (3·H·W)) · Σ_c Σ_p w_p · (x[c,p] − t[c,p])²`, normalised by the element count as the paper's `D`.
///
/// The term's overall weight is part of `w` (a caller scales its mask), so the term has no weight of
/// its own and its default lives with whoever builds the mask.
struct TemporalLoss {
    let target: [Float]
    let pixelWeights: [Float]
    let height: Int
    let width: Int

    /// - Throws: `NSTError.shape` (counts other than `3·height·width` and `height·width`), `.numeric`
    ///   (NaN or infinity in the target or the weights), `.invalidArgument` (a negative weight),
    ///   `.outOfMemory` (the copies do not fit).
    init(target: UnsafeBufferPointer<Float>, pixelWeights: UnsafeBufferPointer<Float>, height: Int, width: Int) throws {
        let pixels = height * width
        guard target.count == 3 * pixels else {
            throw NSTError.shape("temporal target must hold 3x\(height)x\(width) = \(3 * pixels) values, got \(target.count)")
        }
        guard pixelWeights.count == pixels else {
            throw NSTError.shape("temporal weights must hold \(height)x\(width) = \(pixels) values, got \(pixelWeights.count)")
        }
        guard target.allSatisfy(\.isFinite) else { throw NSTError.numeric("temporal target holds NaN or infinity") }
        guard pixelWeights.allSatisfy(\.isFinite) else { throw NSTError.numeric("temporal weights hold NaN or infinity") }
        if let negative = pixelWeights.first(where: { $0 < 0 }) {
            throw NSTError.invalidArgument("temporal weights must be >= 0, got \(negative)")
        }
        try MemoryBudget.check(floats: 4 * pixels, for: "a \(height)x\(width) temporal target and its weights")
        self.target = Array(target)
        self.pixelWeights = Array(pixelWeights)
        self.height = height
        self.width = width
    }

    /// Floats the term holds (counted by `predictPeakMemory`).
    var floatCount: Int { target.count + pixelWeights.count }

    /// Returns the loss at `image` (`3·height·width` values, as the session guarantees) and, with
    /// `gradient`, adds its gradient `(2 / (3·H·W)) · w_p · (x − t)` into it.
    func addEvaluation(image: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?) -> Double {
        let pixels = height * width
        let scale = 1 / Double(3 * pixels)
        var partial = [Double](repeating: 0, count: 3)
        target.withUnsafeBufferPointer { t in
            pixelWeights.withUnsafeBufferPointer { w in
                partial.withUnsafeMutableBufferPointer { sums in
                    Parallel.forEach(3) { c in
                        let offset = c * pixels
                        var sum = 0.0
                        for p in 0..<pixels {
                            let difference = image[offset + p] - t[offset + p]
                            sum += Double(w[p]) * Double(difference) * Double(difference)
                            if let gradient {
                                gradient[offset + p] += Float(2 * scale) * w[p] * difference
                            }
                        }
                        sums[c] = sum
                    }
                }
            }
        }
        return scale * partial.reduce(0, +)
    }
}
