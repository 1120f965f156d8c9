/// 2x2 pooling with stride 2. Output sizes are `height / 2` and `width / 2` (floor): an odd
/// trailing row or column is dropped and receives zero gradient.
public enum Pooling: String, Sendable, CaseIterable {
    case max
    case average

    /// output `[channels, height/2, width/2]` from input `[channels, height, width]`.
    /// - Complexity: O(channels · height · width), parallel over channels.
    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        channels: Int, height: Int, width: Int) {
        let oh = height / 2, ow = width / 2
        Parallel.forEach(channels) { c in
            let src = input + c * height * width
            let dst = output + c * oh * ow
            for y in 0..<oh {
                let r0 = src + 2 * y * width, r1 = r0 + width
                for x in 0..<ow {
                    let a = r0[2 * x], b = r0[2 * x + 1], d = r1[2 * x], e = r1[2 * x + 1]
                    switch self {
                    case .max: dst[y * ow + x] = Swift.max(Swift.max(a, b), Swift.max(d, e))
                    case .average: dst[y * ow + x] = (a + b + d + e) * 0.25
                    }
                }
            }
        }
    }

    /// gradInput `[channels, height, width]` from gradOutput `[channels, height/2, width/2]`.
    ///
    /// Max pooling sends each window's gradient to its first maximum in row-major order (ties
    /// do not split it), matching PyTorch and the C ABI documentation; average pooling spreads
    /// a quarter to each cell.
    ///
    /// With `applyingReLUMask`, cells whose input is not positive get zero gradient: this is the
    /// backward of the ReLU that produced `input`, done here so the network saves a full pass over
    /// the gradient. Every cell of `gradInput` is written exactly once (no separate zeroing pass).
    public func backward(input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         gradInput: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int,
                         applyingReLUMask: Bool = false) {
        let oh = height / 2, ow = width / 2
        Parallel.forEach(channels) { c in
            let src = input + c * height * width
            let g = gradOutput + c * oh * ow
            let dst = gradInput + c * height * width
            for y in 0..<oh {
                let r0 = 2 * y * width, r1 = r0 + width
                for x in 0..<ow {
                    let go = g[y * ow + x]
                    let i00 = r0 + 2 * x, i01 = i00 + 1, i10 = r1 + 2 * x, i11 = i10 + 1
                    switch self {
                    case .max:
                        // Strict '>' keeps the earliest cell on ties.
                        var best = i00
                        if src[i01] > src[best] { best = i01 }
                        if src[i10] > src[best] { best = i10 }
                        if src[i11] > src[best] { best = i11 }
                        let value = applyingReLUMask && !(src[best] > 0) ? 0 : go
                        dst[i00] = 0; dst[i01] = 0; dst[i10] = 0; dst[i11] = 0
                        dst[best] = value
                    case .average:
                        let share = go * 0.25
                        if applyingReLUMask {
                            dst[i00] = src[i00] > 0 ? share : 0; dst[i01] = src[i01] > 0 ? share : 0
                            dst[i10] = src[i10] > 0 ? share : 0; dst[i11] = src[i11] > 0 ? share : 0
                        } else {
                            dst[i00] = share; dst[i01] = share; dst[i10] = share; dst[i11] = share
                        }
                    }
                }
                // An odd trailing column is outside every window.
                if width % 2 == 1 { dst[r0 + width - 1] = 0; dst[r1 + width - 1] = 0 }
            }
            // Likewise an odd trailing row.
            if height % 2 == 1 { (dst + (height - 1) * width).update(repeating: 0, count: width) }
        }
    }
}
