/// Runs a network with its stem (layers up to a split pooling layer) on row strips of the image and the
/// deeper layers on the whole image, so that only one window's stem activations are held at a time.
/// See `StripGeometry` for why every value used is exactly the whole-image one.
///
/// The caller turns the stem's windows into losses and gradients through `StemLayer` visits. Each phase's
/// buffers are released when the phase ends (the stem's after each pass over the strips, the deep part's
/// after its backward pass), so the peak is that of the largest phase, not of all of them together
/// (see `MemoryPrediction`); reallocating costs page faults, small next to a strip pass. Not thread-safe.
final class StripEvaluator {
    let network: FeatureNetwork
    /// The split layer (a pooling layer) and the strip rows, as `EvaluationStrategy.resolved` checked them.
    let split: Int
    let rows: Int
    /// Stem windows; deep part on the whole image (from the split layer's output), whose activations stay
    /// from `forward` until `backward` (or the next `forward`).
    private var stem: NetworkEvaluation
    private(set) var deep: NetworkEvaluation
    /// The window's image rows and the image gradient of a window.
    private var window = FloatBuffer()
    private var windowGradient = FloatBuffer()

    init(network: FeatureNetwork, split: Int, rows: Int) {
        self.network = network
        self.split = split
        self.rows = rows
        stem = NetworkEvaluation(network: network)
        deep = NetworkEvaluation(network: network)
    }

    /// One requested stem layer of one window.
    struct StemLayer {
        let layer: Int
        /// The window's copy of the layer, `[channels, rows.window.count, width]`.
        let features: UnsafePointer<Float>
        let channels: Int
        let width: Int
        /// Positions of the whole-image layer (Gram normalisation).
        let wholePositions: Int
        let rows: LayerRows
        /// Values of the window's copy of the layer.
        var count: Int { channels * rows.window.count * width }
    }

    /// The plan for `requested` layers at an image height.
    func plan(requested: Set<Int>, height: Int) -> StripPlan {
        StripPlan(network: network, split: split, rows: rows, requested: requested, height: height)
    }

    /// The forward pass: every strip's window with the forward halo, `visit` called for each requested
    /// stem layer of each window, the split layer's interior rows gathered; then the deep part, whose
    /// activations are left in `deep`.
    /// - Throws: `NSTError.shape` (image too small for the layers), `.outOfMemory`.
    func forward(image: UnsafePointer<Float>, height: Int, width: Int, plan: StripPlan, pooling: Pooling,
                 visit: (StemLayer) throws -> Void) throws {
        deep = NetworkEvaluation(network: network)  // the last forward's activations, touched, would add to this phase
        if let split = plan.split {
            try network.prepareForward(after: split, height: height, width: width, requested: plan.deepLayers,
                                       pooling: pooling, evaluation: deep)
        }
        try forEachWindow(image: image, height: height, width: width, plan: plan, pooling: pooling,
                          halo: plan.geometry.forwardHalo) { _, layers in
            for layer in layers where plan.stemLayers.contains(layer.layer) { try visit(layer) }
            if let split = plan.split, let splitLayer = layers.first(where: { $0.layer == split }),
               let whole = deep.startOutput {
                Self.gatherInterior(of: splitLayer, into: whole)
            }
        }
        if let start = deep.startOutput, plan.split != nil {
            network.forwardPrepared(input: start, evaluation: deep)
        }
    }

    /// The backward pass after `forward`: the deep part's injections back to the split layer, then every
    /// strip's window recomputed with the backward halo, `inject` adding the stem losses' gradients to a
    /// window's layer, and the interior rows of the window's image gradient written to `gradient`
    /// `[3, height, width]`.
    func backward(image: UnsafePointer<Float>, height: Int, width: Int, plan: StripPlan, pooling: Pooling,
                  deepInjections: [(layer: Int, add: FeatureNetwork.GradientInjection)],
                  inject: @escaping (StemLayer, UnsafeMutablePointer<Float>) -> Void,
                  gradient: UnsafeMutablePointer<Float>) throws {
        let splitGradient = FloatBuffer()  // the deep part's gradient with respect to the split layer's output
        if let split = plan.split, let shape = deep.shape(ofLayer: split) {
            let count = shape.channels * shape.height * shape.width
            try MemoryBudget.check(floats: count, for: "the split layer's gradient")
            splitGradient.reserve(count)
            try network.backward(adding: deepInjections, evaluation: deep,
                                 gradImage: UnsafeMutableBufferPointer(start: splitGradient.pointer, count: count))
            deep = NetworkEvaluation(network: network)
        }
        try forEachWindow(image: image, height: height, width: width, plan: plan, pooling: pooling,
                          halo: plan.geometry.backwardHalo) { rows, layers in
            var injections: [(layer: Int, add: FeatureNetwork.GradientInjection)] = []
            for layer in layers {
                if plan.stemLayers.contains(layer.layer) { injections.append((layer.layer, { inject(layer, $0) })) }
                if layer.layer == plan.split {
                    injections.append((layer.layer, { [splitGradient] in
                        Self.addWindowRows(of: layer, from: splitGradient.pointer, to: $0)
                    }))
                }
            }
            let count = 3 * rows.window.count * width
            windowGradient.reserve(count)
            try network.backward(adding: injections, evaluation: stem,
                                 gradImage: UnsafeMutableBufferPointer(start: windowGradient.pointer, count: count))
            let interior = rows.interiorInWindow
            for c in 0..<3 {
                (gradient + (c * height + rows.interior.lowerBound) * width).update(
                    from: windowGradient.pointer + (c * rows.window.count + interior.lowerBound) * width,
                    count: interior.count * width)
            }
        }
    }

    /// Runs the stem on every strip's window with `halo` and calls `body` with the window's image rows
    /// and its requested layers (those of the plan's stem and the split layer); releases the stem's buffers
    /// afterwards.
    private func forEachWindow(image: UnsafePointer<Float>, height: Int, width: Int, plan: StripPlan, pooling: Pooling,
                               halo: Int, _ body: (LayerRows, [StemLayer]) throws -> Void) throws {
        let geometry = plan.geometry
        let requested = plan.stemRequested
        let wholeShapes = try network.shapes(upTo: geometry.stemEnd, height: height, width: width)
        defer { (stem, window, windowGradient) = (NetworkEvaluation(network: network), FloatBuffer(), FloatBuffer()) }
        let largest = geometry.largestWindow(halo: halo)
        try MemoryBudget.check(floats: 6 * largest * width, for: "a \(largest)x\(width) strip window and its gradient")
        window.reserve(3 * largest * width)
        for strip in geometry.strips {
            let rows = geometry.window(of: strip, halo: halo)
            for c in 0..<3 {
                (window.pointer + c * rows.count * width).update(from: image + (c * height + rows.lowerBound) * width,
                                                                 count: rows.count * width)
            }
            try network.forward(image: UnsafeBufferPointer(start: window.pointer, count: 3 * rows.count * width),
                                height: rows.count, width: width, requested: requested, pooling: pooling,
                                evaluation: stem)
            let layers = try requested.sorted().map { layer in
                let whole = wholeShapes[layer]
                let factor = StripGeometry.downsampling(of: network.layers, through: layer)
                let layerRows = LayerRows(imageWindow: rows, imageInterior: strip, factor: factor, layerHeight: whole.height)
                guard stem.shape(ofLayer: layer)?.height == layerRows.window.count else {
                    throw NSTError.internalError("strip window rows of '\(network.layers[layer].name)' do not match the whole image's")
                }
                return StemLayer(layer: layer, features: try stem.activationPointer(layer: layer),
                                 channels: whole.channels, width: whole.width, wholePositions: whole.height * whole.width,
                                 rows: layerRows)
            }
            try body(LayerRows(imageWindow: rows, imageInterior: strip, factor: 1, layerHeight: height), layers)
        }
    }

    /// Copies the interior rows of a window's copy of a layer to their place in the whole layer
    /// `[channels, H, width]`.
    static func gatherInterior(of layer: StemLayer, into whole: UnsafeMutablePointer<Float>) {
        let rows = layer.rows, width = layer.width
        let layerHeight = layer.wholePositions / width
        let interior = rows.interiorInWindow
        Parallel.forEach(layer.channels) { c in
            (whole + (c * layerHeight + rows.interior.lowerBound) * width).update(
                from: layer.features + (c * rows.window.count + interior.lowerBound) * width, count: interior.count * width)
        }
    }

    /// Adds the rows of the whole layer `whole` `[channels, H, width]` that the window covers to `target`,
    /// the window's copy of the layer.
    private static func addWindowRows(of layer: StemLayer, from whole: UnsafePointer<Float>,
                                      to target: UnsafeMutablePointer<Float>) {
        let rows = layer.rows.window, width = layer.width
        let layerHeight = layer.wholePositions / width
        Parallel.forEach(layer.channels) { c in
            let source = whole + (c * layerHeight + rows.lowerBound) * width
            let destination = target + c * rows.count * width
            for j in 0..<(rows.count * width) { destination[j] += source[j] }
        }
    }
}
