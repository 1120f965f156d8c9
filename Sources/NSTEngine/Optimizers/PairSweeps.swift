/// The vector kernels of `CorrectionPairs`' direction: Double dot products of Float vectors and Double
/// accumulations of scaled Float vectors, in 8-lane SIMD (and the Double sums behind `LayerMoments`' means).
/// Every product of two Floats is exact in Double, so a dot product differs from a sequential Double sum
/// only in the order of its additions.
enum PairSweeps {
    /// Values per block: a block of every stored vector is visited in turn, so that the block of the
    /// vectors it is combined with (the gradient, new pairs, the Double accumulator: 32 KiB) stays in
    /// the core's L1/L2 while the stored vectors stream from memory once.
    static let block = 4096

    /// Eight Floats widened to Double, lane by lane (one conversion instruction; the standard library's
    /// generic `SIMD8<Double>(SIMD8<Float>)` was an out-of-line call per vector, a third of the step).
    @inline(__always)
    private static func wide(_ p: UnsafePointer<Float>) -> SIMD8<Double> {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        return SIMD8(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]),
                     Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
    }

    /// `Σ_j a[j] · b[j]` in Double.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        // Four accumulators, so that consecutive additions do not wait for each other.
        var (s0, s1, s2, s3) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>())
        var j = 0
        while j + 32 <= count {
            s0.addProduct(wide(a + j), wide(b + j))
            s1.addProduct(wide(a + j + 8), wide(b + j + 8))
            s2.addProduct(wide(a + j + 16), wide(b + j + 16))
            s3.addProduct(wide(a + j + 24), wide(b + j + 24))
            j += 32
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while j < count {
            sum += Double(a[j]) * Double(b[j])
            j += 1
        }
        return sum
    }

    /// `Σ_j v[j]` in Double.
    static func sum(_ v: UnsafePointer<Float>, count: Int) -> Double {
        var (s0, s1, s2, s3) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>())
        var j = 0
        while j + 32 <= count {
            s0 += wide(v + j)
            s1 += wide(v + j + 8)
            s2 += wide(v + j + 16)
            s3 += wide(v + j + 24)
            j += 32
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while j < count {
            sum += Double(v[j])
            j += 1
        }
        return sum
    }

    /// `(Σ_j v[j] · p0[j], Σ_j v[j] · p1[j], Σ_j v[j] · p2[j])` in Double, `v` widened once for the three
    /// (the probes are Double already: the gradient and new pairs, widened once per block by the caller).
    static func dots(_ v: UnsafePointer<Float>, _ p0: UnsafePointer<Double>, _ p1: UnsafePointer<Double>,
                     _ p2: UnsafePointer<Double>, count: Int) -> (Double, Double, Double) {
        var (a0, a1, a2) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>())
        var (b0, b1, b2) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>())
        @inline(__always) func load(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
        }
        var j = 0
        while j + 16 <= count {
            let (x, y) = (wide(v + j), wide(v + j + 8))
            a0.addProduct(x, load(p0 + j))
            a1.addProduct(x, load(p1 + j))
            a2.addProduct(x, load(p2 + j))
            b0.addProduct(y, load(p0 + j + 8))
            b1.addProduct(y, load(p1 + j + 8))
            b2.addProduct(y, load(p2 + j + 8))
            j += 16
        }
        var sums = ((a0 + b0).sum(), (a1 + b1).sum(), (a2 + b2).sum())
        while j < count {
            let x = Double(v[j])
            sums.0 += x * p0[j]
            sums.1 += x * p1[j]
            sums.2 += x * p2[j]
            j += 1
        }
        return sums
    }

    /// `destination[j] = Double(source[j])`.
    static func widen(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Double>, count: Int) {
        for j in 0..<count { destination[j] = Double(source[j]) }
    }

    /// `sum[j] += c · v[j]` (fused: one rounding per term).
    static func accumulate(_ sum: UnsafeMutablePointer<Double>, _ c: Double, _ v: UnsafePointer<Float>, count: Int) {
        let k = SIMD8(repeating: c)
        var j = 0
        while j + 8 <= count {
            let raw = UnsafeMutableRawPointer(sum + j)
            var s = raw.loadUnaligned(as: SIMD8<Double>.self)
            s.addProduct(k, wide(v + j))
            raw.storeBytes(of: s, as: SIMD8<Double>.self)
            j += 8
        }
        while j < count {
            sum[j] = sum[j].addingProduct(c, Double(v[j]))
            j += 1
        }
    }

    /// `sum[j] += c0 · v0[j] + c1 · v1[j] + c2 · v2[j] + c3 · v3[j]`, added in that order (as four calls of
    /// `accumulate` would, with one load and store of `sum` instead of four).
    static func accumulate4(_ sum: UnsafeMutablePointer<Double>,
                                    _ c0: Double, _ v0: UnsafePointer<Float>, _ c1: Double, _ v1: UnsafePointer<Float>,
                                    _ c2: Double, _ v2: UnsafePointer<Float>, _ c3: Double, _ v3: UnsafePointer<Float>,
                                    count: Int) {
        let (k0, k1, k2, k3) = (SIMD8(repeating: c0), SIMD8(repeating: c1), SIMD8(repeating: c2), SIMD8(repeating: c3))
        var j = 0
        while j + 8 <= count {
            let raw = UnsafeMutableRawPointer(sum + j)
            var s = raw.loadUnaligned(as: SIMD8<Double>.self)
            s.addProduct(k0, wide(v0 + j))
            s.addProduct(k1, wide(v1 + j))
            s.addProduct(k2, wide(v2 + j))
            s.addProduct(k3, wide(v3 + j))
            raw.storeBytes(of: s, as: SIMD8<Double>.self)
            j += 8
        }
        while j < count {
            sum[j] = sum[j].addingProduct(c0, Double(v0[j])).addingProduct(c1, Double(v1[j]))
                .addingProduct(c2, Double(v2[j])).addingProduct(c3, Double(v3[j]))
            j += 1
        }
    }
}
