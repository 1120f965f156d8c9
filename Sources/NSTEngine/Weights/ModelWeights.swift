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
        guard let inputScale = Float(scaleText.trimmingSpaces), inputScale.isFinite, inputScale > 0 else {
            throw fail("metadata 'input_scale' is '\(scaleText)', expected a finite number > 0 (255 or 1)")
        }
        let mean = try Self.triple(try required("mean"), key: "mean", fail: fail)
        let std = try Self.triple(try required("std"), key: "std", fail: fail)
        guard std.allSatisfy({ $0 > 0 }) else { throw fail("metadata 'std' must be three values > 0, got \(std)") }
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

    /// Parses "a,b,c" into three finite floats.
    private static func triple(_ text: String, key: String, fail: (String) -> NSTError) throws -> [Float] {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Float(String($0).trimmingSpaces) }
        guard values.count == 3, values.allSatisfy({ $0?.isFinite == true }) else {
            throw fail("metadata '\(key)' is '\(text)', expected three comma-separated finite numbers")
        }
        return values.compactMap { $0 }
    }
}

private extension String {
    /// Without leading and trailing spaces, so "103.939, 116.779" parses like "103.939,116.779".
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
