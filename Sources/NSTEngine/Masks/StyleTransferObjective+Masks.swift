/// Spatial control of the objective (Gatys et al. 2017): where the content is kept and where each style
/// is matched, as masks of the generated image propagated to every layer (`SpatialMask`).
extension StyleTransferObjective {
    /// Sets the masks of the generated image (`[height · width]` each, values in [0, 1], nil for all
    /// ones): `content` weights the content term per position (e.g. the content's alpha), `style` is the
    /// region the styles added without their own region are matched over. Replaces earlier masks; the
    /// targets are kept. A style mask needs the `.gram` style loss.
    /// - Throws: `NSTError.shape` (a wrong count), `.invalidArgument` (a value not finite or outside [0, 1];
    ///   a style mask with another style loss);
    ///   the objective is unchanged on error.
    public func setMasks(content: [Float]?, style: [Float]?) throws {
        if style != nil { try styleLoss.checkSupports("style masks") }
        let contentMask = try content.map { try SpatialMask(values: $0, height: height, width: width, "content mask") }
        let styleMask = try style.map { try SpatialMask(values: $0, height: height, width: width, "style mask") }
        let (oldContent, oldStyle) = (self.contentMask, self.styleMask)
        (self.contentMask, self.styleMask) = (contentMask, styleMask)
        do {
            try rebuildContentLosses()
            try rebuildStyleLosses()
        } catch {
            (self.contentMask, self.styleMask) = (oldContent, oldStyle)
            try rebuildContentLosses()
            try rebuildStyleLosses()
            throw error
        }
    }

    /// Whether any mask or region is set (they need the whole-image evaluation).
    var usesMasks: Bool {
        contentMask != nil || styleMask != nil || styleImages.contains { $0.region != nil }
    }

    /// The content losses with the current mask and gradient normalisation (targets and weights unchanged:
    /// `setContent` sets each weight, the convention's factor included).
    func rebuildContentLosses() throws {
        guard !contentLosses.isEmpty else { return }
        let masks = try contentMask?.atLayers(contentLayers.map(\.index), of: network)
        contentLosses = zip(contentLayers, contentLosses).map { layer, loss in
            ContentLoss(weight: loss.weight, target: loss.target, mask: masks?[layer.index],
                        normalizesGradient: normalizeGradients)
        }
    }

    /// A bound on the floats the masks hold at their layers' resolutions (for the memory prediction): one
    /// image's positions per mask and layer using it (a layer after pooling holds a quarter or less).
    var maskFloats: Int {
        let regions = styleImages.filter { $0.region != nil }.count + (styleMask == nil ? 0 : 1)
        return (regions * styleLayers.count + (contentMask == nil ? 0 : contentLayers.count)) * height * width
    }
}
