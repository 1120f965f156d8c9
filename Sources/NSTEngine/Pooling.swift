/// 2x2 pooling with stride 2. Output sizes are `height / 2` and `width / 2` (floor): an odd
/// trailing row or column is dropped and receives zero gradient.
///
/// Both passes take eight windows per SIMD step (`Window`), then the rest of a row one at a time: the
/// stride-2 loops did not vectorise, and pooling took 5% of an evaluation at 256 px (now under 2%).
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
                let r0 = src + 2 * y * width, r1 = r0 + width, out = dst + y * ow
                var x = 0
                while x + Window.lanes <= ow {
                    let w = Window(r0 + 2 * x, r1 + 2 * x)
                    let value: Window.Lanes
                    switch self {
                    case .max: value = w.maximum.value
                    case .average: value = (w.a + w.b + w.d + w.e) * 0.25
                    }
                    UnsafeMutableRawPointer(out + x).storeBytes(of: value, as: Window.Lanes.self)
                    x += Window.lanes
                }
                for x in x..<ow {
                    let a = r0[2 * x], b = r0[2 * x + 1], d = r1[2 * x], e = r1[2 * x + 1]
                    switch self {
                    case .max: out[x] = Swift.max(Swift.max(a, b), Swift.max(d, e))
                    case .average: out[x] = (a + b + d + e) * 0.25
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
                var x = 0
                // Eight windows at a time, then one at a time.
                while x + Window.lanes <= ow {
                    let w = Window(src + r0 + 2 * x, src + r1 + 2 * x)
                    var share = UnsafeRawPointer(g + y * ow + x).loadUnaligned(as: Window.Lanes.self)
                    let zero = Window.Lanes.zero
                    switch self {
                    case .max:
                        let best = w.maximum
                        if applyingReLUMask { share.replace(with: 0, where: .!(best.value .> 0)) }
                        let a = zero.replacing(with: share, where: best.a)
                        let b = zero.replacing(with: share, where: best.b)
                        let d = zero.replacing(with: share, where: best.d)
                        let e = zero.replacing(with: share, where: best.e)
                        Window.store(a, b, to: dst + r0 + 2 * x)
                        Window.store(d, e, to: dst + r1 + 2 * x)
                    case .average:
                        share *= 0.25
                        if applyingReLUMask {
                            Window.store(zero.replacing(with: share, where: w.a .> 0),
                                         zero.replacing(with: share, where: w.b .> 0), to: dst + r0 + 2 * x)
                            Window.store(zero.replacing(with: share, where: w.d .> 0),
                                         zero.replacing(with: share, where: w.e .> 0), to: dst + r1 + 2 * x)
                        } else {
                            Window.store(share, share, to: dst + r0 + 2 * x)
                            Window.store(share, share, to: dst + r1 + 2 * x)
                        }
                    }
                    x += Window.lanes
                }
                switch self {
                case .max:
                    // The first maximum in row-major order (strict '>' keeps the earliest cell on ties).
                    for x in x..<ow {
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
                    for x in x..<ow {
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

/// Eight adjacent 2×2 windows, a b on the top row and d e below, one window per SIMD lane.
private struct Window {
    typealias Lanes = SIMD8<Float>
    static let lanes = Lanes.scalarCount
    let a, b, d, e: Lanes

    /// The windows whose top-left cells are `top[0], top[2], …, top[14]` and `bottom[0], …` (16 floats read
    /// from each row).
    @inline(__always)
    init(_ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>) {
        let t = UnsafeRawPointer(top).loadUnaligned(as: SIMD16<Float>.self)
        let u = UnsafeRawPointer(bottom).loadUnaligned(as: SIMD16<Float>.self)
        (a, b, d, e) = (t.evenHalf, t.oddHalf, u.evenHalf, u.oddHalf)
    }

    /// Each window's maximum and which cell holds it: the first in row-major order (strict '>' keeps the
    /// earliest cell on ties), the same choice as the scalar loops.
    var maximum: (value: Lanes, a: SIMDMask<Lanes.MaskStorage>, b: SIMDMask<Lanes.MaskStorage>,
                  d: SIMDMask<Lanes.MaskStorage>, e: SIMDMask<Lanes.MaskStorage>) {
        @inline(__always) get {
            let bWins = b .> a
            let ab = a.replacing(with: b, where: bWins)
            let dWins = d .> ab
            let abd = ab.replacing(with: d, where: dWins)
            let eWins = e .> abd
            let best = abd.replacing(with: e, where: eWins)
            let notE = .!eWins, notDE = notE .& .!dWins
            return (best, notDE .& .!bWins, notDE .& bWins, notE .& dWins, eWins)
        }
    }

    /// Stores `even[0], odd[0], even[1], …, odd[7]` (written out so that it compiles to shuffles).
    @inline(__always)
    static func store(_ even: Lanes, _ odd: Lanes, to destination: UnsafeMutablePointer<Float>) {
        let v = SIMD16<Float>(even[0], odd[0], even[1], odd[1], even[2], odd[2], even[3], odd[3],
                              even[4], odd[4], even[5], odd[5], even[6], odd[6], even[7], odd[7])
        UnsafeMutableRawPointer(destination).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}

