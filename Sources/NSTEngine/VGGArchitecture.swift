/// The VGG variants the engine runs, as named layer lists in network order.
///
/// Every conv `convB_I` (pre-activation) is followed by `reluB_I`; each block B = 1...5 ends with `poolB`.
public enum VGGArchitecture: String, Sendable, CaseIterable {
    case vgg19
    case vgg16

    /// What one named layer does.
    public enum Operation: Equatable, Sendable {
        case convolution(inChannels: Int, outChannels: Int)
        case relu
        case pool
    }

    /// One named layer.
    public struct Layer: Equatable, Sendable {
        public let name: String
        public let operation: Operation
        /// Channels of this layer's output.
        public let channels: Int
    }

    /// Convolutions per block.
    public var blockSizes: [Int] {
        switch self {
        case .vgg19: return [2, 2, 4, 4, 4]
        case .vgg16: return [2, 2, 3, 3, 3]
        }
    }

    /// Output channels of every conv in a block (identical for both variants).
    public static let blockChannels = [64, 128, 256, 512, 512]

    /// All layers in network order (`conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ...`).
    public var layers: [Layer] {
        var result: [Layer] = []
        var channels = 3
        for (b, size) in blockSizes.enumerated() {
            let out = Self.blockChannels[b]
            for i in 1...size {
                result.append(Layer(name: "conv\(b + 1)_\(i)",
                                    operation: .convolution(inChannels: channels, outChannels: out), channels: out))
                result.append(Layer(name: "relu\(b + 1)_\(i)", operation: .relu, channels: out))
                channels = out
            }
            result.append(Layer(name: "pool\(b + 1)", operation: .pool, channels: channels))
        }
        return result
    }

    /// Layer names in network order.
    public var layerNames: [String] { layers.map(\.name) }

    /// The conv layers with their (input, output) channel counts, in network order.
    public var convolutions: [(name: String, inChannels: Int, outChannels: Int)] {
        layers.compactMap { layer in
            if case .convolution(let i, let o) = layer.operation { return (layer.name, i, o) }
            return nil
        }
    }
}
