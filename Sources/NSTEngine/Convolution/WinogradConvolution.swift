// The tiled driver of a Winograd F(4×4, 3×3) convolution (see WinogradF4x4.swift for the algebra).
//
// For input [C, H, W] and coefficients U[36][K][C] it computes output [K, H, W]. The tile rows are cut
// into bands that the worker threads take one at a time; for its band a worker
//  1. copies each channel's rows into a small zero-padded buffer (so no tile needs bounds checks) and
//     transforms every 6×6 input tile into V[36][C][tiles];
//  2. runs the 36 independent products M[ξ] = U[ξ] · V[ξ] ([K×C]·[C×tiles], single-threaded sgemm);
//  3. transforms M back into 4×4 output blocks, adding the bias.
//
// Why this shape: a band's V and M stay in the worker's cache between the transform that writes them and
// the product that reads them, there is no full-size transformed (let alone im2col) buffer, and the two
// cores never wait for each other inside a layer. Threading inside OpenBLAS instead (one band at a time,
// every product split across cores) measured 1.3–2× slower on the 2-core reference machine: its worker
// threads spin between the 36 short products and the band buffers bounce between the cores' caches.

import Synchronization

enum WinogradConvolution {
    /// ScratchSpace slots used during one call; a kernel call owns the scratch space while it runs.
    private enum Slot {
        static let paddedInput = 0
        static let transformedInput = 1
        static let products = 2
    }

    /// Band size target in bytes for the larger of a band's V and M: a core's L2 cache (2 MiB on the
    /// reference machine), so that the products read V, and the output transform reads M, from L2.
    static let bandBytes = 2 << 20

    /// Fewest tiles per band, overriding `bandBytes` for wide layers: every band streams all of U
    /// (36·K·C floats, 37 MB at 512 channels) through the cache, and single-threaded sgemm needs ≥ ~100
    /// columns to reach 80–90% of its peak. Measured at 512 px on the reference machine: the 256- and
    /// 512-channel layers run 1.2–1.5× faster with 128..256-tile bands than with L2-sized ones, while the
    /// 64-channel layers run 1.3× slower with last-level-cache-sized bands than with L2-sized ones.
    static let minimumBandTiles = 256

    /// Extra floats between the 36 coefficient planes of V and M. Without it the planes sit a multiple of
    /// 4 KiB apart and the 36 loads or stores of one tile all map to the same L1 set (measured 20–40%
    /// slower transforms).
    private static let planePadding = 16

    /// Computes `output[k] = bias[k] + Σ_c correlate3x3(input[c], g[k][c])` with zero padding 1.
    ///
    /// - Parameters:
    ///   - input: `[inChannels, height, width]`.
    ///   - output: `[outChannels, height, width]`, fully overwritten.
    ///   - coefficients: `[36][outChannels][inChannels]`, the transformed kernels `G g Gᵀ`.
    ///   - bias: `outChannels` values, or `nil` for none.
    ///   - bandRowLimit: at most this many tile rows per band (tests use 1 to get many bands).
    /// - Complexity: 36·K·C·⌈H/4⌉·⌈W/32⌉·8 multiply-adds in sgemm, plus O((C + K)·H·W) for the transforms.
    static func convolve(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        height: Int, width: Int, inChannels: Int, outChannels: Int,
        coefficients: UnsafePointer<Float>, bias: UnsafePointer<Float>?, scratch: ScratchSpace,
        bandRowLimit: Int = .max
    ) {
        let geometry = Geometry(height: height, width: width)
        let workers = max(1, Parallel.threadCount)
        let bandRows = min(bandRowLimit, bandRows(geometry: geometry, channels: max(inChannels, outChannels),
                                                  workers: workers))
        let bandCount = (geometry.tileRows + bandRows - 1) / bandRows
        let bandTiles = bandRows * geometry.tileColumns
        let transformedStride = inChannels * bandTiles + planePadding
        let productStride = outChannels * bandTiles + planePadding
        let transformedCount = WinogradF4x4.coefficients * transformedStride
        let productCount = WinogradF4x4.coefficients * productStride
        let workerCount = min(workers, bandCount)
        let transformedBase = scratch.buffer(Slot.transformedInput, count: workerCount * transformedCount)
        let productsBase = scratch.buffer(Slot.products, count: workerCount * productCount)
        let paddedCount = geometry.paddedCount(tileRows: bandRows)
        let paddedBase = scratch.buffer(Slot.paddedInput, count: workerCount * paddedCount)

        let nextBand = Atomic<Int>(0)
        withSingleThreadedBLAS {
            Parallel.forEach(workerCount) { worker in
                let transformed = transformedBase + worker * transformedCount
                let products = productsBase + worker * productCount
                let padded = paddedBase + worker * paddedCount
                // Bands are taken first come, first served: a core slowed by another process does fewer.
                while true {
                    let band = nextBand.add(1, ordering: .relaxed).oldValue
                    if band >= bandCount { break }
                    let rows = (band * bandRows)..<min((band + 1) * bandRows, geometry.tileRows)
                    let tiles = rows.count * geometry.tileColumns
                    WinogradProfile.measure(.inputTransform) {
                        for c in 0..<inChannels {
                            geometry.pad(input + c * height * width, tileRows: rows, into: padded)
                            geometry.transformInput(
                                padded: padded, tileRows: rows,
                                into: transformed + c * tiles, coefficientStride: transformedStride)
                        }
                    }
                    WinogradProfile.measure(.products) {
                        for xi in 0..<WinogradF4x4.coefficients {
                            BLAS.sgemm(m: outChannels, n: tiles, k: inChannels,
                                       a: coefficients + xi * outChannels * inChannels, lda: inChannels,
                                       b: transformed + xi * transformedStride, ldb: tiles,
                                       c: products + xi * productStride, ldc: tiles)
                        }
                    }
                    WinogradProfile.measure(.outputTransform) {
                        for k in 0..<outChannels {
                            geometry.transformOutput(
                                products + k * tiles, coefficientStride: productStride, bias: bias?[k] ?? 0,
                                tileRows: rows, into: output + k * height * width)
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` with OpenBLAS limited to the calling thread, so that the workers' concurrent products
    /// do not queue for (or spin in) OpenBLAS's own thread pool; restores the previous count afterwards.
    /// The count is process-wide: a product started meanwhile on another thread also runs single-threaded,
    /// which costs speed only.
    private static func withSingleThreadedBLAS(_ body: () -> Void) {
        let previous = BLAS.threadCount
        if previous != 1 { BLAS.threadCount = 1 }
        defer { if previous != 1 { BLAS.threadCount = previous } }
        body()
    }

    /// Tile rows per band: as many as fit `bandBytes` but at least `minimumBandTiles` tiles, then evened
    /// out so that the bands come in multiples of the worker count and are of nearly equal size.
    private static func bandRows(geometry: Geometry, channels: Int, workers: Int) -> Int {
        let bytesPerRow = WinogradF4x4.coefficients * MemoryLayout<Float>.stride * channels * geometry.tileColumns
        let fitting = max(bandBytes / bytesPerRow,
                          (minimumBandTiles + geometry.tileColumns - 1) / geometry.tileColumns)
        var bands = (geometry.tileRows + fitting - 1) / fitting
        bands = min(geometry.tileRows, (bands + workers - 1) / workers * workers)
        return (geometry.tileRows + bands - 1) / bands
    }
}

/// How an H×W plane is cut into 4×4 output blocks, and the gathers and scatters between the plane and
/// the lanes of the tile transforms.
private struct Geometry {
    let height: Int, width: Int
    /// Tile rows and columns; columns are rounded up to whole SIMD groups (the extra tiles read zero padding
    /// and their outputs are dropped).
    let tileRows: Int, tileColumns: Int
    /// Width of a padded row: column x holds input column x − 1, zero outside the image; wide enough for
    /// the 32-float loads of the last group.
    let paddedWidth: Int

    init(height: Int, width: Int) {
        let lanes = WinogradLanes.scalarCount
        self.height = height
        self.width = width
        tileRows = (height + 3) / 4
        tileColumns = ((width + 3) / 4 + lanes - 1) / lanes * lanes
        paddedWidth = 4 * tileColumns + 8
    }

    /// Floats of a padded buffer holding the input rows of `tileRows` tile rows (4 per tile row plus the
    /// 2-row halo).
    func paddedCount(tileRows: Int) -> Int { (4 * tileRows + 2) * paddedWidth }

    /// Copies the input rows that the tiles of `tileRows` read (4·first − 1 ... 4·end) from one channel
    /// `plane` [height, width] into `padded`, zero outside the image.
    func pad(_ plane: UnsafePointer<Float>, tileRows: Range<Int>, into padded: UnsafeMutablePointer<Float>) {
        for r in 0..<(4 * tileRows.count + 2) {
            let y = 4 * tileRows.lowerBound - 1 + r
            let row = padded + r * paddedWidth
            guard y >= 0 && y < height else {
                row.update(repeating: 0, count: paddedWidth)
                continue
            }
            row[0] = 0
            (row + 1).update(from: plane + y * width, count: width)
            (row + 1 + width).update(repeating: 0, count: paddedWidth - 1 - width)
        }
    }

    /// Transforms the tiles of `tileRows`, whose rows `pad` copied into `padded`, into
    /// `out[ξ · coefficientStride + t]`, t counting tiles from the band's first one.
    func transformInput(
        padded: UnsafePointer<Float>, tileRows: Range<Int>,
        into out: UnsafeMutablePointer<Float>, coefficientStride: Int
    ) {
        let lanes = WinogradLanes.scalarCount
        var d = WinogradTile(repeating: .zero)
        for tileRow in tileRows {
            for firstColumn in stride(from: 0, to: tileColumns, by: lanes) {
                // Lane l is the tile whose top-left padded pixel is (4·tileRow, 4·(firstColumn + l)):
                // its column j sits at offset 4l + j of a 32-float run, or 4l + j − 4 of the run 4 further.
                let top = 4 * (tileRow - tileRows.lowerBound)
                for r in 0..<6 {
                    let row = UnsafeRawPointer(padded + (top + r) * paddedWidth + 4 * firstColumn)
                    let near = row.loadUnaligned(as: SIMD32<Float>.self)
                    let far = row.loadUnaligned(fromByteOffset: 16, as: SIMD32<Float>.self)
                    let nearEven = near.evenHalf, nearOdd = near.oddHalf
                    d[r * 6] = nearEven.evenHalf
                    d[r * 6 + 1] = nearOdd.evenHalf
                    d[r * 6 + 2] = nearEven.oddHalf
                    d[r * 6 + 3] = nearOdd.oddHalf
                    d[r * 6 + 4] = far.evenHalf.evenHalf
                    d[r * 6 + 5] = far.oddHalf.evenHalf
                }
                WinogradF4x4.transformInput(&d)
                let tile = (tileRow - tileRows.lowerBound) * tileColumns + firstColumn
                for xi in 0..<36 {
                    UnsafeMutableRawPointer(out + xi * coefficientStride + tile)
                        .storeBytes(of: d[xi], as: WinogradLanes.self)
                }
            }
        }
    }

    /// Turns one output channel's products `m[ξ · coefficientStride + t]` into its 4×4 blocks of `tileRows`,
    /// adding `bias`, and writes the parts inside the image into `plane` [height, width].
    func transformOutput(
        _ m: UnsafePointer<Float>, coefficientStride: Int, bias: Float,
        tileRows: Range<Int>, into plane: UnsafeMutablePointer<Float>
    ) {
        let lanes = WinogradLanes.scalarCount
        let bias = WinogradLanes(repeating: bias)
        var t = WinogradTile(repeating: .zero)
        for tileRow in tileRows {
            for firstColumn in stride(from: 0, to: tileColumns, by: lanes) {
                let x0 = 4 * firstColumn
                if x0 >= width { break }
                let tile = (tileRow - tileRows.lowerBound) * tileColumns + firstColumn
                for xi in 0..<36 {
                    t[xi] = UnsafeRawPointer(m + xi * coefficientStride + tile).loadUnaligned(as: WinogradLanes.self)
                }
                WinogradF4x4.transformOutput(&t)
                for r in 0..<4 {
                    let row = 4 * tileRow + r
                    if row >= height { break }
                    // Pixel 4l + c of the 32 is lane l of output (r, c).
                    let pixels = interleave(t[r * 6] + bias, t[r * 6 + 1] + bias,
                                            t[r * 6 + 2] + bias, t[r * 6 + 3] + bias)
                    let destination = plane + row * width + x0
                    if x0 + 4 * lanes <= width {
                        UnsafeMutableRawPointer(destination).storeBytes(of: pixels, as: SIMD32<Float>.self)
                    } else {
                        for i in 0..<(width - x0) { destination[i] = pixels[i] }
                    }
                }
            }
        }
    }
}

/// The 32 values `a[0], b[0], c[0], d[0], a[1], …, d[7]` (written out so that it compiles to shuffles).
@inline(__always)
private func interleave(_ a: WinogradLanes, _ b: WinogradLanes, _ c: WinogradLanes, _ d: WinogradLanes) -> SIMD32<Float> {
    SIMD32<Float>(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1],
                  a[2], b[2], c[2], d[2], a[3], b[3], c[3], d[3],
                  a[4], b[4], c[4], d[4], a[5], b[5], c[5], d[5],
                  a[6], b[6], c[6], d[6], a[7], b[7], c[7], d[7])
}
