/// How an objective evaluates the network on an image: all at once, or with the layers up to a pooling
/// layer (the stem) run on row strips and the rest on the whole image (see `StripGeometry`).
/// Both give the same losses and gradient to float rounding; strips trade recomputation for memory.
public enum EvaluationStrategy: Sendable, Equatable {
    /// Every layer on the whole image (fastest; memory grows with all layers' outputs).
    case whole
    /// Layers `0...splitAfter` on strips of `rows` image rows, deeper layers on the whole image.
    case strips(splitAfter: String, rows: Int)

    /// The split layer's index and the strip rows, checked against `network`.
    /// - Throws: `NSTError.unknownLayer`; `.invalidArgument` when the split layer is not a pooling layer
    ///   or `rows` is not a positive multiple of the stem's alignment (`StripGeometry.stem`: 2^(pooling
    ///   layers up to the split + 1), e.g. 16 for pool3) up to `StyleTransferObjective.maxImageSide`.
    func resolved(in network: FeatureNetwork) throws -> (split: Int, rows: Int)? {
        guard case .strips(let name, let rows) = self else { return nil }
        guard let split = network.layerIndex(name) else { throw NSTError.unknownLayer(name) }
        guard network.layers[split].operation == .pool else {
            let pools = network.layers.filter { $0.operation == .pool }.map(\.name).joined(separator: ", ")
            throw NSTError.invalidArgument("split layer must be a pooling layer (\(pools)), got '\(name)'")
        }
        let alignment = StripGeometry.stem(network.layers, through: split).alignment
        guard rows > 0, rows % alignment == 0, rows <= StyleTransferObjective.maxImageSide else {
            throw NSTError.invalidArgument("strip rows for a split after '\(name)' must be a positive multiple of \(alignment) up to \(StyleTransferObjective.maxImageSide), got \(rows)")
        }
        return (split, rows)
    }
}

/// A resolved strip strategy for one set of requested layers: the stem (strips) and the deep part (whole).
struct StripPlan {
    /// Geometry of the stem for the image height being evaluated.
    let geometry: StripGeometry
    /// The split layer when layers deeper than it are requested, else nil (everything is stem).
    let split: Int?
    /// Requested layers in the stem and in the deep part.
    let stemLayers: [Int]
    let deepLayers: Set<Int>

    /// - Parameters:
    ///   - split, rows: from `EvaluationStrategy.resolved`.
    ///   - requested: the layers whose outputs are used (non-empty).
    init(network: FeatureNetwork, split: Int, rows: Int, requested: Set<Int>, height: Int) {
        let deepest = requested.max() ?? 0
        let stemEnd = min(split, deepest)
        geometry = StripGeometry(layers: network.layers, stemEnd: stemEnd, rows: rows, height: height)
        self.split = split < deepest ? split : nil
        stemLayers = requested.filter { $0 <= stemEnd }.sorted()
        deepLayers = requested.filter { $0 > stemEnd }
    }

    /// What the stem's windows request: the stem's requested layers and the split layer.
    var stemRequested: Set<Int> { Set(stemLayers + (split.map { [$0] } ?? [])) }
}
