// The tiled driver of a Winograd F(4×4, 3×3) convolution (see WinogradF4x4.swift for the algebra).
//
// For input [C, H, W] and coefficients U[36][K][C] it computes output [K, H, W]; in the `.inputGradient`
// direction it computes the input gradient [C, H, W] of that convolution from an output gradient
// [K, H, W] with the same U (see `Direction`). The tile rows are cut
// into bands that the worker threads take one at a time; for its band a worker
//  1. copies each channel's rows into a small zero-padded buffer (so no tile needs bounds checks) and
//     transforms every 6×6 input tile into V[36][C][tiles];
//  2. runs the 36 independent products M[ξ] = U[ξ] · V[ξ] ([K×C]·[C×tiles], single-threaded sgemm);
//  3. transforms M back into 4×4 output blocks, adding the bias.
//
// Why this shape: a band's V and M stay in the worker's cache between the transform that writes them and
// the product that reads them, there is no full-size transformed (let alone im2col) buffer, and the two
// cores never wait for each other inside a layer. Threading inside OpenBLAS instead (one band at a time,
// every product split across cores) is slower: its worker threads spin between the 36 short products and
// the band buffers bounce between the cores' caches (measured: bench/RESULTS.md, "Threads inside OpenBLAS").

import Synchronization

enum WinogradConvolution {
    /// Which of a layer's two passes `convolve` runs with the layer's coefficients U[36][K][C].
    ///
    /// The input gradient is a correlation with the kernels rotated by 180° and the channels swapped.
    /// Rather than keeping a second, transformed copy of those kernels (4× the weights again: 206 MB for
    /// VGG-19 up to conv5_1), it reuses U: correlating with a rotated kernel is correlating the rotated
    /// image with the kernel and rotating the result back (R·corr(R·x, g) = corr(x, rot180 g) for the
    /// 180° rotation R, zero padding included), and swapping channels is multiplying by U[ξ]ᵀ instead of
    /// U[ξ]. The rotations are free: they happen in the copies into the padded rows and out of the
    /// output blocks that the driver makes anyway.
    enum Direction {
        /// output[k] = bias[k] + Σ_c correlate3x3(input[c], g[k][c]).
        case forward
        /// gradInput[c] = Σ_k convolve3x3(gradOutput[k], g[k][c]) (no bias).
        case inputGradient
    }

    /// Band size target in bytes for the larger of a band's V and M: half a core's L2 cache (2 MiB on the
    /// reference machine), so that V and M both stay in L2 while the products read the one and write the
    /// other, and the output transform reads M from there. Only the 64-channel layers of small images
    /// have rows narrow enough for this to matter (wider ones get `minimumBandTiles`): at 256 px their
    /// bands become 128 tiles instead of 192 (measured: bench/RESULTS.md, "Winograd bands").
    static let bandBytes = 1 << 20

    /// Fewest tiles per band, overriding `bandBytes` for wide layers: every band streams all of U
    /// (36·K·C floats, 37 MB at 512 channels) through the cache, and single-threaded sgemm needs ≥ ~100
    /// columns to reach 80–90% of its peak. Larger bands help the wide layers and hurt the 64-channel
    /// ones; 128 rather than 256 lets the 64×64 planes of conv3_x at 256 px make two bands instead of one
    /// band split by channels (measured: bench/RESULTS.md, "Winograd bands").
    static let minimumBandTiles = 128

    /// Extra floats between the 36 coefficient planes of V and M. Without it the planes sit a multiple of
    /// 4 KiB apart and the 36 loads or stores of one tile all map to the same L1 set (measured:
    /// bench/RESULTS.md, "Plane padding").
    private static let planePadding = 16

    /// Element-wise work done on the fly while the driver reads its input or writes its output, saving a
    /// full pass over a layer's activations or gradients each.
    struct Fusion {
        /// `.forward`: ReLU applied to the output (after the bias).
        var outputReLU = false
        /// `.inputGradient`: `input` is the gradient at the output of the ReLU that follows the layer, whose
        /// output (or input: both are positive at the same places) this is, `[K, height, width]`; the
        /// driver passes `input[i]` where it is positive and 0 elsewhere: the ReLU's backward pass.
        var reluActivation: UnsafePointer<Float>? = nil
    }

    /// Computes, with zero padding 1, `output[k] = bias[k] + Σ_c correlate3x3(input[c], g[k][c])`
    /// (`.forward`), or the input gradient `output[c] = Σ_k convolve3x3(input[k], g[k][c])` of that
    /// convolution from the output gradient `input` (`.inputGradient`).
    ///
    /// The work is cut into bands of tile rows, taken first come, first served by the workers (a core
    /// slowed by another process does fewer). Small planes give fewer bands than workers; then each band is
    /// shared instead: its input transform split by input channels, its products and output transform by
    /// groups of output channels, so that each worker packs only its part of U (with bands of a few dozen
    /// tiles, packing all of U, 37 MB at 512 channels, per band cost as much as the products).
    ///
    /// - Parameters:
    ///   - input: `[inChannels, height, width]` (`.inputGradient`: the output gradient, `[K, height, width]`).
    ///   - output: `[outChannels, height, width]`, fully overwritten.
    ///   - inChannels, outChannels: of this pass: `.forward` C → K, `.inputGradient` K → C.
    ///   - coefficients: `[36][K][C]`, the transformed kernels `G g Gᵀ` of the layer's forward pass.
    ///   - bias: `outChannels` values, or `nil` for none.
    ///   - fusion: element-wise work done on the way (see `Fusion`).
    ///   - bandRowLimit: at most this many tile rows per band (tests use 1 to get many bands).
    /// - Complexity: 36·K·C·⌈H/4⌉·⌈W/4⌉ multiply-adds in sgemm, plus O((C + K)·H·W) for the transforms.
    static func convolve(
        _ direction: Direction = .forward,
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        height: Int, width: Int, inChannels: Int, outChannels: Int,
        coefficients: UnsafePointer<Float>, bias: UnsafePointer<Float>?, fusion: Fusion = Fusion(),
        scratch: ScratchSpace, bandRowLimit: Int = .max
    ) {
        let geometry = Geometry(height: height, width: width, rotated: direction == .inputGradient)
        // U[ξ] is [K][C]: the forward pass multiplies by it, the input gradient by its transpose.
        let transposeCoefficients = direction == .inputGradient
        let coefficientRowLength = transposeCoefficients ? outChannels : inChannels
        let layout = ScratchLayout(geometry: geometry, inChannels: inChannels, outChannels: outChannels,
                                   bandRowLimit: bandRowLimit)
        let partition = layout.partition
        let (transformedStride, productStride) = (layout.transformedStride, layout.productStride)
        let (transformedCount, productCount, paddedCount) = (layout.transformedCount, layout.productCount, layout.paddedCount)
        let (grouped, workerCount) = (layout.grouped, layout.workerCount)
        let transformedBase = scratch.buffer(.winogradTransformedInput, count: layout.transformedFloats)
        let productsBase = scratch.buffer(.winogradProducts, count: layout.productFloats)
        let paddedBase = scratch.buffer(.winogradPaddedInput, count: layout.paddedFloats)
        let plane = height * width

        /// V of the band's tiles for input channels `channels`, written at their place in `transformed`.
        func transform(band rows: Range<Int>, channels: Range<Int>, into transformed: UnsafeMutablePointer<Float>,
                       padded: UnsafeMutablePointer<Float>) {
            let tiles = rows.count * geometry.tileColumns
            LayerProfiler.measure(.inputTransform) {
                for c in channels {
                    geometry.pad(input + c * plane, gate: fusion.reluActivation.map { $0 + c * plane },
                                 tileRows: rows, into: padded)
                    geometry.transformInput(padded: padded, tileRows: rows, into: transformed + c * tiles,
                                            coefficientStride: transformedStride)
                }
            }
        }

        /// The products of the band's V with the rows of U (or Uᵀ) of output channels `channels`, then their
        /// output blocks.
        func multiply(band rows: Range<Int>, channels: Range<Int>, transformed: UnsafePointer<Float>,
                      products: UnsafeMutablePointer<Float>) {
            let tiles = rows.count * geometry.tileColumns
            LayerProfiler.measure(.products) {
                // Rows `channels` of U[ξ] (forward), or of U[ξ]ᵀ, i.e. columns of U[ξ] (input gradient).
                let firstRow = transposeCoefficients ? channels.lowerBound : channels.lowerBound * coefficientRowLength
                for xi in 0..<WinogradF4x4.coefficients {
                    BLAS.serialSgemm(transposeA: transposeCoefficients, m: channels.count, n: tiles, k: inChannels,
                                     a: coefficients + xi * outChannels * inChannels + firstRow, lda: coefficientRowLength,
                                     b: transformed + xi * transformedStride, ldb: tiles,
                                     c: products + xi * productStride, ldc: tiles)
                }
            }
            LayerProfiler.measure(.outputTransform) {
                for k in channels {
                    geometry.transformOutput(
                        products + (k - channels.lowerBound) * tiles, coefficientStride: productStride,
                        bias: bias?[k] ?? 0, relu: fusion.outputReLU, tileRows: rows, into: output + k * plane)
                }
            }
        }

        if grouped {
            // Few bands (usually one): each band's input transform is split by input channels, then its
            // products and outputs by output channel groups.
            for band in 0..<partition.bandCount {
                let rows = partition.tileRows(ofBand: band, in: geometry)
                Parallel.forEach(workerCount) { worker in
                    transform(band: rows, channels: Parallel.part(worker, of: workerCount, splitting: inChannels),
                              into: transformedBase, padded: paddedBase + worker * paddedCount)
                }
                Parallel.forEach(partition.groupCount) { group in
                    multiply(band: rows, channels: partition.groups[group], transformed: transformedBase,
                             products: productsBase + group * productCount)
                }
            }
            return
        }
        // Bands are taken first come, first served: a core slowed by another process does fewer.
        let nextBand = Atomic<Int>(0)
        Parallel.forEach(workerCount) { worker in
            let transformed = transformedBase + worker * transformedCount
            while true {
                let band = nextBand.add(1, ordering: .relaxed).oldValue
                if band >= partition.bandCount { break }
                let rows = partition.tileRows(ofBand: band, in: geometry)
                transform(band: rows, channels: 0..<inChannels, into: transformed, padded: paddedBase + worker * paddedCount)
                multiply(band: rows, channels: 0..<outChannels, transformed: transformed,
                         products: productsBase + worker * productCount)
            }
        }
    }

    /// Floats of each `ScratchSpace` slot one `convolve` call of either direction takes.
    static func scratchFloats(height: Int, width: Int, inChannels: Int, outChannels: Int) -> [ScratchSlot: Int] {
        [(inChannels, outChannels, false), (outChannels, inChannels, true)].map { c, k, rotated in
            let l = ScratchLayout(geometry: Geometry(height: height, width: width, rotated: rotated), inChannels: c,
                                  outChannels: k, bandRowLimit: .max)
            return [.winogradPaddedInput: l.paddedFloats, .winogradTransformedInput: l.transformedFloats,
                    .winogradProducts: l.productFloats]
        }.reduce([:]) { $0.merging($1, uniquingKeysWith: max) }
    }

    /// The sizes of the scratch buffers of one `convolve` call (one source for it and `scratchFloats`).
    private struct ScratchLayout {
        let partition: Partition
        let transformedStride: Int, productStride: Int, transformedCount: Int, productCount: Int, paddedCount: Int
        /// Band mode: every worker has its own V. Group mode: the workers share one V per band.
        let grouped: Bool, workerCount: Int
        var transformedFloats: Int { (grouped ? 1 : workerCount) * transformedCount }
        var productFloats: Int { max(workerCount, partition.groupCount) * productCount }
        var paddedFloats: Int { workerCount * paddedCount }

        init(geometry: Geometry, inChannels: Int, outChannels: Int, bandRowLimit: Int) {
            let workers = max(1, Parallel.threadCount)
            partition = Partition(geometry: geometry, channels: max(inChannels, outChannels), outChannels: outChannels,
                                  workers: workers, bandRowLimit: bandRowLimit)
            let bandTiles = partition.bandRows * geometry.tileColumns
            transformedStride = inChannels * bandTiles + planePadding
            productStride = partition.largestGroup * bandTiles + planePadding
            (transformedCount, productCount) = (WinogradF4x4.coefficients * transformedStride, WinogradF4x4.coefficients * productStride)
            paddedCount = geometry.paddedCount(tileRows: partition.bandRows)
            (grouped, workerCount) = (partition.groupCount > 1, min(workers, partition.groupCount > 1 ? workers : partition.bandCount))
        }
    }

    /// How one convolution is cut: into bands of tile rows, and each band into groups of output channels
    /// when the bands are fewer than the workers.
    private struct Partition {
        let bandRows: Int, bandCount: Int
        /// The output channels of each group; boundaries on multiples of 16 (sgemm's row blocks) where
        /// the channels allow.
        let groups: [Range<Int>]
        var groupCount: Int { groups.count }
        /// Channels in the largest group.
        var largestGroup: Int { groups.map(\.count).max() ?? 0 }

        func tileRows(ofBand band: Int, in geometry: Geometry) -> Range<Int> {
            (band * bandRows)..<min((band + 1) * bandRows, geometry.tileRows)
        }

        /// Bands as many tile rows as fit `bandBytes` but at least `minimumBandTiles` tiles, evened out so
        /// that they come in multiples of the worker count and are of nearly equal size; when a plane
        /// holds fewer such bands than there are workers, the bands the plane holds, each split into enough
        /// channel groups to give every worker one.
        init(geometry: Geometry, channels: Int, outChannels: Int, workers: Int, bandRowLimit: Int) {
            let bytesPerRow = WinogradF4x4.coefficients * MemoryLayout<Float>.stride * channels * geometry.tileColumns
            let fitting = min(bandRowLimit, max(bandBytes / bytesPerRow,
                                                (minimumBandTiles + geometry.tileColumns - 1) / geometry.tileColumns))
            var bands = (geometry.tileRows + fitting - 1) / fitting
            var groupCount = 1
            if bands >= workers {
                bands = min(geometry.tileRows, (bands + workers - 1) / workers * workers)
            } else {
                groupCount = min(outChannels, (workers + bands - 1) / bands)
            }
            bandRows = (geometry.tileRows + bands - 1) / bands
            bandCount = (geometry.tileRows + bandRows - 1) / bandRows
            let alignment = outChannels >= 16 * groupCount ? 16 : 1
            groups = (0..<groupCount).map { Parallel.part($0, of: groupCount, splitting: outChannels, alignment: alignment) }
                .filter { !$0.isEmpty }
        }
    }
}

/// How an H×W plane is cut into 4×4 output blocks, and the gathers and scatters between the plane and
/// the lanes of the tile transforms.
private struct Geometry {
    let height: Int, width: Int
    /// Whether planes are read and written rotated by 180° (`WinogradConvolution.Direction.inputGradient`):
    /// the tiles then cover the rotated plane, whose row y is the plane's row height − 1 − y reversed.
    let rotated: Bool
    /// Tile rows and columns. A row's tiles are transformed in SIMD groups of eight; the last group of a
    /// row may run past the image (its extra lanes read zero padding), and only its tiles inside the image
    /// are stored, so the products see no padding tiles: a 16-px plane has 4 tile columns, not 8.
    let tileRows: Int, tileColumns: Int
    /// Width of a padded row: column x holds input column x − 1, zero outside the image; wide enough for
    /// the 32-float loads of the last group.
    let paddedWidth: Int

    init(height: Int, width: Int, rotated: Bool) {
        let lanes = WinogradLanes.scalarCount
        self.height = height
        self.width = width
        self.rotated = rotated
        tileRows = (height + 3) / 4
        tileColumns = (width + 3) / 4
        let groups = (tileColumns + lanes - 1) / lanes
        paddedWidth = 4 * lanes * groups + 8
    }

    /// Floats of a padded buffer holding the input rows of `tileRows` tile rows (4 per tile row plus the
    /// 2-row halo).
    func paddedCount(tileRows: Int) -> Int { (4 * tileRows + 2) * paddedWidth }

    /// Copies the input rows that the tiles of `tileRows` read (4·first − 1 ... 4·end) from one channel
    /// `plane` [height, width] into `padded`, zero outside the image. With a `gate` (a plane of the same
    /// shape), each value is copied where the gate is positive and 0 elsewhere.
    func pad(_ plane: UnsafePointer<Float>, gate: UnsafePointer<Float>?,
             tileRows: Range<Int>, into padded: UnsafeMutablePointer<Float>) {
        for r in 0..<(4 * tileRows.count + 2) {
            let y = 4 * tileRows.lowerBound - 1 + r
            let row = padded + r * paddedWidth
            guard y >= 0 && y < height else {
                row.update(repeating: 0, count: paddedWidth)
                continue
            }
            row[0] = 0
            // Element x of the destination row is element x of the plane's row y, or element −x counted from
            // the end of row height − 1 − y when rotated. Each case is its own constant-stride loop with
            // unconditional loads, so that it vectorises.
            let offset = rotated ? (height - 1 - y) * width + (width - 1) : y * width
            let source = plane + offset
            let destination = row + 1
            switch (gate.map { $0 + offset }, rotated) {
            case (nil, false):
                destination.update(from: source, count: width)
            case (nil, true):
                for x in 0..<width { destination[x] = source[-x] }
            case (let gate?, false):
                for x in 0..<width { let value = source[x]; destination[x] = gate[x] > 0 ? value : 0 }
            case (let gate?, true):
                for x in 0..<width { let value = source[-x]; destination[x] = gate[-x] > 0 ? value : 0 }
            }
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
                // Rows: each gathered row goes through Bᵀ before it is stored, so the gathered values never
                // make a round trip through the stack.
                for r in 0..<6 {
                    let row = UnsafeRawPointer(padded + (top + r) * paddedWidth + 4 * firstColumn)
                    let near = row.loadUnaligned(as: SIMD32<Float>.self)
                    let far = row.loadUnaligned(fromByteOffset: 16, as: SIMD32<Float>.self)
                    let nearEven = near.evenHalf, nearOdd = near.oddHalf
                    let t = WinogradF4x4.inputColumn(nearEven.evenHalf, nearOdd.evenHalf, nearEven.oddHalf,
                                                     nearOdd.oddHalf, far.evenHalf.evenHalf, far.oddHalf.evenHalf)
                    d[r * 6] = t.0; d[r * 6 + 1] = t.1; d[r * 6 + 2] = t.2
                    d[r * 6 + 3] = t.3; d[r * 6 + 4] = t.4; d[r * 6 + 5] = t.5
                }
                let tile = out + (tileRow - tileRows.lowerBound) * tileColumns + firstColumn
                let stored = min(lanes, tileColumns - firstColumn)
                if stored == lanes {
                    // Columns: Bᵀ applied to each column, stored straight into V (coefficient ξ = 6r + c).
                    let rowBytes = 6 * MemoryLayout<Float>.stride * coefficientStride
                    for c in 0..<6 {
                        let t = WinogradF4x4.inputColumn(d[c], d[6 + c], d[12 + c], d[18 + c], d[24 + c], d[30 + c])
                        let column = UnsafeMutableRawPointer(tile + c * coefficientStride)
                        column.storeBytes(of: t.0, as: WinogradLanes.self)
                        column.storeBytes(of: t.1, toByteOffset: rowBytes, as: WinogradLanes.self)
                        column.storeBytes(of: t.2, toByteOffset: 2 * rowBytes, as: WinogradLanes.self)
                        column.storeBytes(of: t.3, toByteOffset: 3 * rowBytes, as: WinogradLanes.self)
                        column.storeBytes(of: t.4, toByteOffset: 4 * rowBytes, as: WinogradLanes.self)
                        column.storeBytes(of: t.5, toByteOffset: 5 * rowBytes, as: WinogradLanes.self)
                    }
                } else {
                    WinogradF4x4.transformColumns(&d)
                    // The next tile row (or, at a band's end, another worker's channel) follows.
                    for xi in 0..<36 {
                        let values = d[xi]
                        for l in 0..<stored { tile[xi * coefficientStride + l] = values[l] }
                    }
                }
            }
        }
    }

    /// Turns one output channel's products `m[ξ · coefficientStride + t]` into its 4×4 blocks of `tileRows`,
    /// adding `bias` (then clamping at 0 with `relu`), and writes the parts inside the image into `plane`
    /// [height, width]. The last group of a tile row reads up to 7 floats past the row's tiles: the next
    /// row's, the next channel's, or the planes' padding.
    func transformOutput(
        _ m: UnsafePointer<Float>, coefficientStride: Int, bias: Float, relu: Bool,
        tileRows: Range<Int>, into plane: UnsafeMutablePointer<Float>
    ) {
        let lanes = WinogradLanes.scalarCount
        let bias = WinogradLanes(repeating: bias)
        for tileRow in tileRows {
            for firstColumn in stride(from: 0, to: tileColumns, by: lanes) {
                let x0 = 4 * firstColumn
                let tile = m + (tileRow - tileRows.lowerBound) * tileColumns + firstColumn
                let y = WinogradF4x4.transformOutput { xi in
                    UnsafeRawPointer(tile + xi * coefficientStride).loadUnaligned(as: WinogradLanes.self)
                }
                // Pixel 4l + c of row r's 32 is lane l of output (r, c).
                let rowPixels: InlineArray<4, SIMD32<Float>> = [
                    interleave(y[0] + bias, y[1] + bias, y[2] + bias, y[3] + bias),
                    interleave(y[4] + bias, y[5] + bias, y[6] + bias, y[7] + bias),
                    interleave(y[8] + bias, y[9] + bias, y[10] + bias, y[11] + bias),
                    interleave(y[12] + bias, y[13] + bias, y[14] + bias, y[15] + bias)]
                for r in 0..<4 {
                    let row = 4 * tileRow + r
                    if row >= height { break }
                    let pixels = rowPixels[r]
                    let count = min(4 * lanes, width - x0)
                    // The ReLU runs on the stored pixels, still in L1: a plain loop vectorises, where the
                    // generic SIMD maximum did not inline and cost a third of the transform.
                    defer {
                        if relu {
                            let stored = rotated ? plane + (height - 1 - row) * width + (width - x0 - count)
                                                 : plane + row * width + x0
                            for i in 0..<count { stored[i] = max(stored[i], 0) }
                        }
                    }
                    if rotated {
                        // Pixel (row, x0 + i) of the rotated plane is (height − 1 − row, width − 1 − x0 − i).
                        let destination = plane + (height - 1 - row) * width + (width - x0 - count)
                        if count == 4 * lanes {
                            UnsafeMutableRawPointer(destination).storeBytes(of: reversed(pixels), as: SIMD32<Float>.self)
                        } else {
                            for i in 0..<count { destination[count - 1 - i] = pixels[i] }
                        }
                    } else {
                        let destination = plane + row * width + x0
                        if count == 4 * lanes {
                            UnsafeMutableRawPointer(destination).storeBytes(of: pixels, as: SIMD32<Float>.self)
                        } else {
                            for i in 0..<count { destination[i] = pixels[i] }
                        }
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

/// The 32 values of `v` in reverse order (written out so that it compiles to a permutation).
@inline(__always)
private func reversed(_ v: SIMD32<Float>) -> SIMD32<Float> {
    SIMD32<Float>(v[31], v[30], v[29], v[28], v[27], v[26], v[25], v[24],
                  v[23], v[22], v[21], v[20], v[19], v[18], v[17], v[16],
                  v[15], v[14], v[13], v[12], v[11], v[10], v[9], v[8],
                  v[7], v[6], v[5], v[4], v[3], v[2], v[1], v[0])
}
