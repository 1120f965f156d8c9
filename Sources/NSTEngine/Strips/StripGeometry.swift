/// How the stem of a network (layers `0...stemEnd`) is evaluated on horizontal strips of an image so that
/// every value kept is exactly the whole-image value.
///
/// A strip's interior is a range of image rows; it is evaluated on a window, the interior extended by a
/// halo on both sides (clipped at the image border, where the zero padding is then the true padding).
/// Cropping changes values only near a cut edge of the window:
/// - contamination: a 3×3 convolution spreads a wrong row by one layer row, a 2×2 pooling halves the wrong
///   rows, rounding up (windows are aligned so that pooling windows coincide with the whole image's).
///   After layer l the first `c_l` layer rows from a cut edge may be wrong.
/// - reach: layer l's row p depends on image rows `[p·f_l − e_l, (p+1)·f_l − 1 + e_l]`, with `f_l` the
///   downsampling factor and `e_l` the sum of the factors of the convolutions up to l.
/// The forward pass needs the interior's layer rows uncontaminated: halo >= `c_l·f_l`. The backward pass
/// needs every position whose value depends on an interior image row to be inside the window and
/// uncontaminated (then its value, the injected gradient there and its Jacobian are all exact, and the
/// inexact positions only reach image rows outside the interior): halo >= `e_l + (c_l + 1)·f_l − 1`.
/// Both halos are rounded up to the alignment (see `stem(_:through:)`).
public struct StripGeometry: Sendable, Equatable {
    /// Last layer evaluated on strips.
    public let stemEnd: Int
    /// Image rows per strip interior (the last strip may be shorter); a multiple of `alignment`.
    public let rows: Int
    /// Every strip and window starts on a multiple of it (see `stem(_:through:)`).
    public let alignment: Int
    /// Halo of the forward-only windows and of the windows recomputed for the backward pass.
    public let forwardHalo: Int
    public let backwardHalo: Int
    /// Image height being split.
    public let height: Int

    /// - Parameters:
    ///   - layers: the network's layers; `stemEnd` indexes them.
    ///   - rows: strip rows, > 0 and a multiple of the stem's alignment (checked by `EvaluationStrategy`).
    init(layers: [VGGArchitecture.Layer], stemEnd: Int, rows: Int, height: Int) {
        let stem = Self.stem(layers, through: stemEnd)
        func aligned(_ value: Int) -> Int { (value + stem.alignment - 1) / stem.alignment * stem.alignment }
        self.stemEnd = stemEnd
        self.rows = rows
        self.alignment = stem.alignment
        self.forwardHalo = aligned(stem.forwardHalo)
        self.backwardHalo = aligned(stem.backwardHalo)
        self.height = height
    }

    /// The alignment and the unrounded halos of the stem `layers[0...stemEnd]`.
    ///
    /// Alignment: windows start on multiples of every pooling stride so pooling windows coincide with the
    /// whole image's, and of 4× the downsampling at every convolution so that Winograd's 4×4 output tiles
    /// coincide too: then the kept values are not merely equal up to rounding but bitwise equal, and no
    /// ReLU or max-pooling choice can flip between a window and the whole image.
    static func stem(_ layers: [VGGArchitecture.Layer], through stemEnd: Int)
        -> (alignment: Int, forwardHalo: Int, backwardHalo: Int) {
        var factor = 1, contamination = 0, reach = 0
        var alignment = 1, forwardHalo = 0, backwardHalo = 0
        for layer in layers[0...stemEnd] {
            switch layer.operation {
            case .convolution:
                contamination += 1
                reach += factor
                alignment = max(alignment, 4 * factor)
            case .relu:
                break
            case .pool:
                contamination = (contamination + 1) / 2
                factor *= 2
                alignment = max(alignment, factor)
            }
            forwardHalo = max(forwardHalo, contamination * factor)
            backwardHalo = max(backwardHalo, reach + (contamination + 1) * factor - 1)
        }
        return (alignment, forwardHalo, backwardHalo)
    }

    /// `2^(pooling layers in 0...layer)`: how much the layer is downsampled.
    static func downsampling(of layers: [VGGArchitecture.Layer], through layer: Int) -> Int {
        layers[0...layer].reduce(1) { $1.operation == .pool ? $0 * 2 : $0 }
    }

    /// The strip interiors, top to bottom; they partition `0..<height`.
    public var strips: [Range<Int>] {
        stride(from: 0, to: height, by: rows).map { $0..<min(height, $0 + rows) }
    }

    /// The image rows evaluated for `strip` with `halo` rows on each side, clipped to the image.
    public func window(of strip: Range<Int>, halo: Int) -> Range<Int> {
        max(0, strip.lowerBound - halo)..<min(height, strip.upperBound + halo)
    }

    /// The most image rows any window with `halo` spans: what the stem's buffers are sized for.
    public func largestWindow(halo: Int) -> Int {
        strips.map { window(of: $0, halo: halo).count }.max() ?? 0
    }
}

/// Rows of a layer of a window evaluation: where the strip's interior lies in the window's copy of
/// the layer and where the window's copy lies in the whole layer.
struct LayerRows {
    /// Layer rows of the whole-image layer covered by the window.
    let window: Range<Int>
    /// Layer rows of the whole-image layer belonging to the strip's interior.
    let interior: Range<Int>
    /// The interior as rows of the window's copy of the layer.
    var interiorInWindow: Range<Int> { (interior.lowerBound - window.lowerBound)..<(interior.upperBound - window.lowerBound) }

    /// For image rows `window` ⊇ `interior` (both starting on multiples of `factor`) and a layer of
    /// `layerHeight` rows downsampled by `factor`; floor pooling drops the same rows as the whole image.
    init(imageWindow: Range<Int>, imageInterior: Range<Int>, factor: Int, layerHeight: Int) {
        func layerRows(_ rows: Range<Int>) -> Range<Int> {
            (rows.lowerBound / factor)..<min(layerHeight, rows.upperBound / factor)
        }
        window = layerRows(imageWindow)
        interior = layerRows(imageInterior)
    }
}
