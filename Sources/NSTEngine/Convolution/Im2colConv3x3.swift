/// A 3x3 convolution by im2col + sgemm: unroll input patches into a column matrix and multiply by the
/// `[outChannels, inChannels·9]` weight matrix with one sgemm per band of rows. The production kernel,
/// `WinogradConv3x3`, hands it the planes at most `WinogradConv3x3.narrowWidth` (4) px wide, where
/// Winograd's tiles would be mostly padding; LayerBench can also time it on every layer.
///
/// The input gradient of a stride-1, pad-1 3x3 convolution is itself such a convolution, with
/// channels swapped and the kernel rotated by 180°, so `backwardInput` runs the same forward code
/// on precomputed flipped weights. That avoids a col2im scatter (and its serial accumulation
/// between bands) at the same sgemm cost as `Wᵀ·gradOut`.
///
/// Rows are processed in bands so the column buffer stays near `bandFloats` floats; a single
/// full-image buffer at 512x512 would need 576·512² floats (600 MB) for conv1_2.
public struct Im2colConv3x3: Conv3x3Kernel {
    /// The weight is OIHW, i.e. row-major `[outChannels, inChannels·9]`.
    public let parameters: Conv3x3Parameters
    public var inChannels: Int { parameters.inChannels }
    public var outChannels: Int { parameters.outChannels }
    /// `[inChannels, outChannels·9]`, see `transposedFlippedConv3x3Weight`.
    let flippedWeight: [Float]
    let zeroBias: [Float]

    /// Target size of the im2col buffer per band, in floats (16 MB): large enough that sgemm runs
    /// near peak, small enough to stay cache- and memory-friendly at large image sizes.
    static let bandFloats = 4 << 20

    public init(_ parameters: Conv3x3Parameters) {
        self.parameters = parameters
        flippedWeight = transposedFlippedConv3x3Weight(parameters.weight, inChannels: parameters.inChannels,
                                                       outChannels: parameters.outChannels)
        zeroBias = [Float](repeating: 0, count: parameters.inChannels)
    }

    /// - Throws: `NSTError.shape` when `weight`/`bias` do not match the channel counts.
    public init(weight: [Float], bias: [Float], inChannels: Int, outChannels: Int) throws {
        self.init(try Conv3x3Parameters(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels))
    }

    // The arrays are passed as pointers valid for the duration of each `convolve` call.
    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        height: Int, width: Int, scratch: ScratchSpace) {
        Self.convolve(input: input, inChannels: inChannels, weight: parameters.weight, bias: parameters.bias,
                      outChannels: outChannels, output: output, height: height, width: width, scratch: scratch)
    }

    public func backwardInput(gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
                              height: Int, width: Int, scratch: ScratchSpace) {
        Self.convolve(input: gradOutput, inChannels: outChannels, weight: flippedWeight, bias: zeroBias,
                      outChannels: inChannels, output: gradInput, height: height, width: width, scratch: scratch)
    }

    /// Floats of each `ScratchSpace` slot a pass over a `height x width` plane takes.
    func scratchFloats(height: Int, width: Int) -> [ScratchSlot: Int] {
        [.im2colColumns: Self.scratchFloats(inChannels: max(inChannels, outChannels), height: height, width: width)]
    }

    /// Floats of the column buffer (scratch slot `im2colColumns`) `convolve` takes for `inChannels` input planes.
    static func scratchFloats(inChannels: Int, height: Int, width: Int) -> Int {
        9 * inChannels * bandHeight(rows: 9 * inChannels, height: height, width: width) * width
    }

    /// Image rows per band for a column buffer of `rows` rows, near `bandFloats`.
    private static func bandHeight(rows: Int, height: Int, width: Int) -> Int {
        max(1, min(height, bandFloats / max(1, rows * width)))
    }

    /// - Complexity: O(outChannels · inChannels · 9 · height · width) in sgemm.
    static func convolve(input: UnsafePointer<Float>, inChannels: Int,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, outChannels: Int,
                         output: UnsafeMutablePointer<Float>, height: Int, width: Int, scratch: ScratchSpace) {
        let plane = height * width
        let rows = inChannels * 9
        let bandHeight = bandHeight(rows: rows, height: height, width: width)
        let columns = scratch.buffer(.im2colColumns, count: rows * bandHeight * width)

        // sgemm accumulates into the bias-filled output (beta = 1), fusing the bias add.
        Parallel.forEach(outChannels) { o in
            (output + o * plane).update(repeating: bias[o], count: plane)
        }
        var top = 0
        while top < height {
            let bandRows = min(bandHeight, height - top)
            let n = bandRows * width
            fillColumns(input: input, channels: inChannels, height: height, width: width,
                        top: top, bandRows: bandRows, columns: columns)
            BLAS.sgemm(m: outChannels, n: n, k: rows, a: weight, lda: rows, b: columns, ldb: n,
                       beta: 1, c: output + top * width, ldc: plane)
            top += bandRows
        }
    }

    /// Writes the im2col matrix `[inChannels·9, bandRows·width]` of rows `top..<top+bandRows`;
    /// row `c·9 + ky·3 + kx` holds `input[c, y + ky - 1, x + kx - 1]` (0 outside the image).
    static func fillColumns(input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                            top: Int, bandRows: Int, columns: UnsafeMutablePointer<Float>) {
        let n = bandRows * width
        Parallel.forEach(channels) { c in
            let source = input + c * height * width
            for k in 0..<9 {
                let dy = k / 3 - 1, dx = k % 3 - 1
                let row = columns + (c * 9 + k) * n
                for r in 0..<bandRows {
                    let y = top + r + dy
                    let dest = row + r * width
                    guard y >= 0, y < height else {
                        dest.update(repeating: 0, count: width)
                        continue
                    }
                    // Valid x range: 0 <= x + dx < width.
                    let lo = max(0, -dx), hi = min(width, width - dx)
                    if lo > 0 { dest[0] = 0 }
                    if hi < width { dest[width - 1] = 0 }
                    if hi > lo { (dest + lo).update(from: source + y * width + lo + dx, count: hi - lo) }
                }
            }
        }
    }
}
