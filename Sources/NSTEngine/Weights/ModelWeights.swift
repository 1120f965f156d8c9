/// A validated swiftnst weights file: the architecture, the input convention the weights were
/// trained with, and every conv layer's OIHW weight and bias (see docs/ARCHITECTURE.md).
public struct ModelWeights: Sendable {
    /// Channel order the network expects.
    public enum ChannelOrder: String, Sendable {
        case rgb = "RGB"
        case bgr = "BGR"
    }

    /// The only value of `swiftnst.format` this engine reads.
    public static let formatVersion = "1"

    /// Smallest standard deviation of one conv layer's weights that a trained VGG can have. Constant
    /// or all-zero weights make every loss 0 from the first step; the published VGG-19/16 layers
    /// have 0.0063 and more (63 times this), He initialisation sqrt(2 / fan_in) >= 0.021.
    public static let minimumWeightStandardDeviation = 1e-4

    public let architecture: VGGArchitecture
    public let channelOrder: ChannelOrder
    /// 255 for Caffe-lineage weights (inputs 0...255), 1 for torchvision (inputs 0...1).
    public let inputScale: Float
    /// Per channel, in `channelOrder`, after scaling.
    public let mean: [Float]
    /// Per channel, in `channelOrder`; all > 0.
    public let std: [Float]
    /// Free text naming the original file and its hash.
    public let source: String
    /// OIHW weight and bias of every conv layer of `architecture`, by layer name.
    public let layers: [String: (weight: [Float], bias: [Float])]

    /// Loads and validates the weights file at `path`.
    /// - Throws: `NSTError.io` when it cannot be read; `NSTError.weightsFormat` naming the file,
    ///   the tensor or metadata key, and the problem for anything else.
    public init(contentsOf path: String) throws {
        try self.init(file: SafeTensorsFile(path: path))
    }

    /// Validates an already-mapped file: metadata, the exact set of tensors, their shapes, and
    /// that every value is finite.
    public init(file: SafeTensorsFile) throws {
        let path = file.path
        func fail(_ message: String) -> NSTError { .weightsFormat("\(path): \(message)") }
        func required(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw fail("missing metadata '\(key)'") }
            return value
        }

        let format = try required("swiftnst.format")
        guard format == Self.formatVersion else {
            throw fail("metadata 'swiftnst.format' is '\(format)', this engine reads '\(Self.formatVersion)'")
        }
        let architectureName = try required("architecture")
        guard let architecture = VGGArchitecture(rawValue: architectureName) else {
            throw fail("metadata 'architecture' is '\(architectureName)', expected vgg19 or vgg16")
        }
        let orderName = try required("channel_order")
        guard let channelOrder = ChannelOrder(rawValue: orderName) else {
            throw fail("metadata 'channel_order' is '\(orderName)', expected RGB or BGR")
        }
        let scaleText = try required("input_scale")
        guard let inputScale = Float(scaleText.trimmingSpaces), inputScale == 1 || inputScale == 255 else {
            throw fail("metadata 'input_scale' is '\(scaleText)', expected 255 or 1")
        }
        // Pixels span 0...inputScale, so a channel's mean lies in that range and its std is at most
        // inputScale; below inputScale / 1000 (std 1 at scale 255 is the Caffe convention, 0.229 at
        // scale 1 torchvision's) the normalised input would be magnified a thousandfold or more.
        let mean = try Self.triple(try required("mean"), key: "mean", in: 0...inputScale, fail: fail)
        let std = try Self.triple(try required("std"), key: "std", in: (inputScale / 1000)...inputScale, fail: fail)
        let source = try required("source")

        let expected = Set(architecture.convolutions.flatMap { ["\($0.name).weight", "\($0.name).bias"] })
        if let extra = file.tensorNames.first(where: { !expected.contains($0) }) {
            throw fail("unexpected tensor '\(extra)' for \(architecture.rawValue)")
        }
        var layers: [String: (weight: [Float], bias: [Float])] = [:]
        for conv in architecture.convolutions {
            let weight = try Self.tensor(file, "\(conv.name).weight", shape: [conv.outChannels, conv.inChannels, 3, 3], fail: fail)
            let bias = try Self.tensor(file, "\(conv.name).bias", shape: [conv.outChannels], fail: fail)
            layers[conv.name] = (weight, bias)
        }
        // Once the file is structurally right: values that no trained VGG has.
        for conv in architecture.convolutions {
            let spread = Self.standardDeviation(layers[conv.name]?.weight ?? [])
            guard spread >= Self.minimumWeightStandardDeviation else {
                throw fail("tensor '\(conv.name).weight' has standard deviation \(spread)\(spread == 0 ? " (constant)" : ""), "
                           + "below the \(Self.minimumWeightStandardDeviation) of any trained VGG layer; "
                           + "these are not trained VGG weights")
            }
        }

        self.init(architecture: architecture, channelOrder: channelOrder, inputScale: inputScale, mean: mean, std: std,
                  source: source, layers: layers)
    }

    /// Weights already validated (the file's, or the normalised copy of `normalizedToCaffeRange`).
    init(architecture: VGGArchitecture, channelOrder: ChannelOrder, inputScale: Float, mean: [Float], std: [Float],
         source: String, layers: [String: (weight: [Float], bias: [Float])]) {
        self.architecture = architecture
        self.channelOrder = channelOrder
        self.inputScale = inputScale
        self.mean = mean
        self.std = std
        self.source = source
        self.layers = layers
    }

    /// Builds the feature network these weights describe.
    /// - Throws: `NSTError.outOfMemory` or `.weightsFormat` from `FeatureNetwork`.
    public func makeNetwork() throws -> FeatureNetwork {
        try FeatureNetwork(architecture: architecture, weights: layers)
    }

    private static func tensor(_ file: SafeTensorsFile, _ name: String, shape: [Int],
                               fail: (String) -> NSTError) throws -> [Float] {
        guard let info = file.tensors[name] else { throw fail("missing tensor '\(name)'") }
        guard info.shape == shape else { throw fail("tensor '\(name)' has shape \(info.shape), expected \(shape)") }
        let values = try file.floats(name)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw fail("tensor '\(name)' holds a non-finite value (\(values[bad])) at element \(bad)")
        }
        return values
    }

    /// Parses "a,b,c" into three floats inside `range`.
    private static func triple(_ text: String, key: String, in range: ClosedRange<Float>,
                               fail: (String) -> NSTError) throws -> [Float] {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Float(String($0).trimmingSpaces) }
        guard values.count == 3, values.allSatisfy({ $0.map(range.contains) == true }) else {
            throw fail("metadata '\(key)' is '\(text)', expected three comma-separated numbers in "
                       + "\(range.lowerBound)...\(range.upperBound)")
        }
        return values.compactMap { $0 }
    }

    /// Population standard deviation, accumulated in Double (two passes, so no cancellation).
    private static func standardDeviation(_ values: [Float]) -> Double {
        guard !values.isEmpty else { return 0 }
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let squares = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        return (squares / Double(values.count)).squareRoot()
    }
}

private extension String {
    /// Without leading and trailing spaces, so "103.939, 116.779" parses like "103.939,116.779".
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
