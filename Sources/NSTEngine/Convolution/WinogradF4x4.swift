// Winograd's minimal filtering algorithm F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016): a 4×4 block of a 3×3 cross-correlation is
//
//     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// for the 3×3 kernel g and the 6×6 input tile d (the block plus a one-pixel halo). The 36 elementwise
// products replace 144 multiply-adds of the direct form, a 4× saving; summed over input channels the
// products become 36 independent matrix products, which is where the time goes (`WinogradConv3x3`).
//
// With interpolation points 0, ±1, ±2 and ∞:
//
//     Bᵀ = | 4  0 -5  0  1  0 |     G = |  1/4     0     0  |     Aᵀ = | 1  1  1  1  1  0 |
//          | 0 -4 -4  1  1  0 |         | -1/6  -1/6  -1/6  |          | 0  1 -1  2 -2  0 |
//          | 0  4 -4 -1  1  0 |         | -1/6   1/6  -1/6  |          | 0  1  1  4  4  0 |
//          | 0 -2 -1  2  1  0 |         |  1/24  1/12  1/6  |          | 0  1 -1  8 -8  1 |
//          | 0  2 -1 -2  1  0 |         |  1/24 -1/12  1/6  |
//          | 0  4  0 -5  0  1 |         |   0     0     1   |
//
// These points keep float32 rounding small: against a direct float64 convolution (ReLU-like inputs,
// He-scaled kernels) max |error| / max |output| is 1e-6..7e-6 for 1..64 input channels and at most about
// 1.5e-5 for 128..512 channels at VGG feature-map sizes (Tests/NSTEngineTests/WinogradConv3x3Tests.swift).
// Larger tiles (F(6×6, 3×3)) need the points ±1/2 and lose about one more decimal digit.
//
// The tile transforms work on eight tiles at once (one SIMD lane per tile) so that the row and column
// passes are straight-line vector code; the caller gathers and scatters the lanes.

/// Eight tiles side by side, one per SIMD lane.
typealias WinogradLanes = SIMD8<Float>

/// A 6×6 tile of lanes, row-major (stack storage: the transforms run millions of times per evaluation).
typealias WinogradTile = InlineArray<36, WinogradLanes>

enum WinogradF4x4 {
    /// Output block side.
    static let outputTile = 4
    /// Input tile side: the output block plus a one-pixel halo on each side.
    static let inputTile = 6
    /// Number of transformed coefficients per tile, hence of independent matrix products per convolution.
    static let coefficients = 36

    /// Transforms one 3×3 kernel `g` (row-major) into its 36 Winograd coefficients `G g Gᵀ`, writing
    /// coefficient ξ (row-major 6×6 order) to `u[ξ · stride]`.
    ///
    /// Computed in `Double` and rounded once, so the stored coefficients carry no error of their own.
    static func transformKernel(_ g: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, stride: Int) {
        // G g: 6×3, one column of the kernel at a time.
        var gg = InlineArray<18, Double>(repeating: 0)
        for x in 0..<3 {
            let column = kernelColumn(Double(g[x]), Double(g[3 + x]), Double(g[6 + x]))
            for r in 0..<6 { gg[r * 3 + x] = column[r] }
        }
        // (G g) Gᵀ: 6×6, G applied to every row of G g.
        for r in 0..<6 {
            let row = kernelColumn(gg[r * 3], gg[r * 3 + 1], gg[r * 3 + 2])
            for c in 0..<6 { u[(r * 6 + c) * stride] = Float(row[c]) }
        }
    }

    /// G applied to a 3-vector (multiplying by the reciprocals: in `Double` their rounding is far below
    /// the final rounding to `Float`, and divisions made this the slowest part of loading a model).
    @inline(__always)
    private static func kernelColumn(_ g0: Double, _ g1: Double, _ g2: Double) -> InlineArray<6, Double> {
        let sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyFourth = 1.0 / 24
        let outer = g0 + g2
        return [0.25 * g0,
                -sixth * (outer + g1),
                -sixth * (outer - g1),
                twentyFourth * g0 + twelfth * g1 + sixth * g2,
                twentyFourth * g0 - twelfth * g1 + sixth * g2,
                g2]
    }

    /// Bᵀ applied to a 6-vector, with the shared subexpressions of the standard factorisation.
    @inline(__always)
    static func inputColumn(
        _ d0: WinogradLanes, _ d1: WinogradLanes, _ d2: WinogradLanes,
        _ d3: WinogradLanes, _ d4: WinogradLanes, _ d5: WinogradLanes
    ) -> (WinogradLanes, WinogradLanes, WinogradLanes, WinogradLanes, WinogradLanes, WinogradLanes) {
        let a = d4 - 4 * d2, b = d3 - 4 * d1
        let c = d4 - d2, e = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, a + b, a - b, c + e, c - e, 4 * d1 - 5 * d3 + d5)
    }

    /// Aᵀ applied to a 6-vector.
    @inline(__always)
    static func outputColumn(
        _ m0: WinogradLanes, _ m1: WinogradLanes, _ m2: WinogradLanes,
        _ m3: WinogradLanes, _ m4: WinogradLanes, _ m5: WinogradLanes
    ) -> (WinogradLanes, WinogradLanes, WinogradLanes, WinogradLanes) {
        let sum12 = m1 + m2, diff12 = m1 - m2
        let sum34 = m3 + m4, diff34 = m3 - m4
        return (m0 + sum12 + sum34, diff12 + 2 * diff34, sum12 + 4 * sum34, diff12 + 8 * diff34 + m5)
    }

    /// The second half of `Bᵀ d B` for eight 6×6 tiles whose rows already went through Bᵀ (d ← Bᵀ d), in
    /// place; `d` is a row-major 6×6 array of lanes. The first half is `inputColumn` on each gathered row.
    @inline(__always)
    static func transformColumns(_ d: inout WinogradTile) {
        for c in 0..<6 {
            let t = inputColumn(d[c], d[6 + c], d[12 + c], d[18 + c], d[24 + c], d[30 + c])
            d[c] = t.0; d[6 + c] = t.1; d[12 + c] = t.2; d[18 + c] = t.3; d[24 + c] = t.4; d[30 + c] = t.5
        }
    }

    /// `Aᵀ m A` for eight 6×6 tiles of products, `m(ξ)` being coefficient ξ (row-major 6×6 order): the
    /// 4×4 output blocks, output (r, c) at `4r + c`.
    ///
    /// Straight-line code with constant indices, so that the tile never leaves the registers: written to
    /// a stack array and read back two lane-vectors at a time, it cost a store-forwarding stall per
    /// output row (measured: bench/RESULTS.md, "Output transform in registers").
    @inline(__always)
    static func transformOutput(_ m: (Int) -> WinogradLanes) -> InlineArray<16, WinogradLanes> {
        // Rows: each row of m becomes a row of m A (four entries).
        @inline(__always) func row(_ r: Int) -> (WinogradLanes, WinogradLanes, WinogradLanes, WinogradLanes) {
            outputColumn(m(6 * r), m(6 * r + 1), m(6 * r + 2), m(6 * r + 3), m(6 * r + 4), m(6 * r + 5))
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
        // Columns: Aᵀ applied to each of the four columns of m A.
        let c0 = outputColumn(r0.0, r1.0, r2.0, r3.0, r4.0, r5.0)
        let c1 = outputColumn(r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)
        let c2 = outputColumn(r0.2, r1.2, r2.2, r3.2, r4.2, r5.2)
        let c3 = outputColumn(r0.3, r1.3, r2.3, r3.3, r4.3, r5.3)
        return [c0.0, c1.0, c2.0, c3.0,
                c0.1, c1.1, c2.1, c3.1,
                c0.2, c1.2, c2.2, c3.2,
                c0.3, c1.3, c2.3, c3.3]
    }
}
