/// The cost functions of the Coursera-style tutorial, on activations `a` `[n_C, n_H, n_W]`
/// (i.e. already unrolled as `[n_C, n_H·n_W]`), accumulated in `Double`.
///
/// These use the tutorial's normalisations, not the objective's (see `ContentLoss`, `StyleLoss`).
public enum TutorialCosts {
    /// Gram matrix `F Fᵀ` `[channels, channels]` of `features` `[channels, positions]`.
    /// - Throws: `NSTError.shape` when the count is not `channels · positions`; `.outOfMemory`.
    public static func gram(features: UnsafeBufferPointer<Float>, channels: Int, positions: Int) throws -> [Float] {
        try checkShape(features.count, channels: channels, positions: positions, name: "features")
        let (gramCount, overflow) = channels.multipliedReportingOverflow(by: channels)
        guard !overflow else { throw NSTError.outOfMemory("a \(channels)x\(channels) Gram matrix has too many values to count") }
        try MemoryBudget.check(floats: gramCount, for: "a \(channels)x\(channels) Gram matrix")
        var gram = [Float](repeating: 0, count: channels * channels)
        gram.withUnsafeMutableBufferPointer { g in
            GramMatrix.forward(features: features.baseAddress!, channels: channels, positions: positions, gram: g.baseAddress!)
        }
        return gram
    }

    /// `Σ (a_C − a_G)² / (4 · n_H · n_W · n_C)`.
    /// - Throws: `NSTError.shape` when a count is not `channels · height · width` or a size is 0.
    public static func contentCost(content: UnsafeBufferPointer<Float>, generated: UnsafeBufferPointer<Float>,
                                   channels: Int, height: Int, width: Int) throws -> Double {
        let positions = try positions(height: height, width: width)
        try checkShape(content.count, channels: channels, positions: positions, name: "a_C")
        try checkShape(generated.count, channels: channels, positions: positions, name: "a_G")
        return sumOfSquaredDifferences(content, generated) / contentNormalization(channels: channels, positions: positions)
    }

    /// `Σ (Gram(a_S) − Gram(a_G))² / (4 · n_C² · (n_H · n_W)²)`.
    /// - Throws: `NSTError.shape` as `contentCost`; `.outOfMemory` for an unreasonable channel count.
    public static func layerStyleCost(style: UnsafeBufferPointer<Float>, generated: UnsafeBufferPointer<Float>,
                                      channels: Int, height: Int, width: Int) throws -> Double {
        let positions = try positions(height: height, width: width)
        try checkShape(style.count, channels: channels, positions: positions, name: "a_S")
        try checkShape(generated.count, channels: channels, positions: positions, name: "a_G")
        let gs = try gram(features: style, channels: channels, positions: positions)
        let gg = try gram(features: generated, channels: channels, positions: positions)
        return gs.withUnsafeBufferPointer { s in
            gg.withUnsafeBufferPointer { g in sumOfSquaredDifferences(s, g) }
        } / layerStyleNormalization(channels: channels, positions: positions)
    }

    /// The content cost's divisor `4 · n_H · n_W · n_C`, with `positions = n_H · n_W`.
    static func contentNormalization(channels: Int, positions: Int) -> Double {
        4 * Double(positions) * Double(channels)
    }

    /// The layer style cost's divisor `4 · n_C² · (n_H · n_W)²`, with `positions = n_H · n_W`.
    static func layerStyleNormalization(channels: Int, positions: Int) -> Double {
        4 * Double(channels) * Double(channels) * Double(positions) * Double(positions)
    }

    private static func sumOfSquaredDifferences(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Double {
        var sum = 0.0
        for i in 0..<a.count {
            let d = Double(a[i]) - Double(b[i])
            sum += d * d
        }
        return sum
    }

    /// `height · width`, or `NSTError.shape` on a side < 1 or an overflow.
    private static func positions(height: Int, width: Int) throws -> Int {
        let (positions, overflow) = height.multipliedReportingOverflow(by: width)
        guard height >= 1, width >= 1, !overflow else {
            throw NSTError.shape("activation sizes must be >= 1 and their product must fit, got \(height)x\(width)")
        }
        return positions
    }

    private static func checkShape(_ count: Int, channels: Int, positions: Int, name: String) throws {
        guard channels >= 1, positions >= 1 else {
            throw NSTError.shape("\(name) needs positive sizes, got \(channels) channels and \(positions) positions")
        }
        let (expected, overflow) = channels.multipliedReportingOverflow(by: positions)
        guard !overflow, count == expected else {
            throw NSTError.shape("\(name) must hold \(channels)x\(positions) values, got \(count)")
        }
    }
}
