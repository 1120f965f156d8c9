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
                switch self {
                case .max:
                    // The first maximum in row-major order (strict '>' keeps the earliest cell on ties),
                    // written with selects only so that the loop vectorises.
                    for x in 0..<ow {
                        let i00 = r0 + 2 * x, i10 = r1 + 2 * x
                        let a = src[i00], b = src[i00 + 1], d = src[i10], e = src[i10 + 1]
                        let bWins = b > a
                        let ab = bWins ? b : a
                        let dWins = d > ab
                        let abd = dWins ? d : ab
                        let eWins = e > abd
                        let best = eWins ? e : abd
                        let go = g[y * ow + x]
                        let value = applyingReLUMask && !(best > 0) ? 0 : go
                        dst[i10 + 1] = eWins ? value : 0
                        dst[i10] = !eWins && dWins ? value : 0
                        dst[i00 + 1] = !eWins && !dWins && bWins ? value : 0
                        dst[i00] = !eWins && !dWins && !bWins ? value : 0
                    }
                case .average:
                    for x in 0..<ow {
                        let i00 = r0 + 2 * x, i10 = r1 + 2 * x
                        let share = g[y * ow + x] * 0.25
                        if applyingReLUMask {
                            dst[i00] = src[i00] > 0 ? share : 0; dst[i00 + 1] = src[i00 + 1] > 0 ? share : 0
                            dst[i10] = src[i10] > 0 ? share : 0; dst[i10 + 1] = src[i10 + 1] > 0 ? share : 0
                        } else {
                            dst[i00] = share; dst[i00 + 1] = share; dst[i10] = share; dst[i10 + 1] = share
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
