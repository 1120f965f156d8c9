import Glibc

/// Every model is loaded into one input range, Caffe's: pixels 0...255 minus the channel mean, std 1.
///
/// Why: the objective's default weights (content 5, style 100, tv 1e-3) and Adam's learning rate are
/// jcjohnson/neural-style's, tuned for Caffe-lineage VGG, whose input spans about 255 / 4.4 = 58 times
/// the range of a torchvision model's std-normalised input. Activations grow with the input's scale, so
/// with torchvision weights the content loss (squared activations) was about 58² times smaller, the
/// style loss (squared Grams, activations to the 4th power) about 58⁴, the total variation (squared
/// pixel differences) 58²: the same weights barely stylised. The defaults are rescaled here, once,
/// in the model, rather than in every loss weight and optimiser option.
///
/// How, exactly: with `k_c = 255 * std_c / inputScale` per channel, the file's input `x_c` is
/// `x'_c / k_c`, where `x'_c = 255 * rgb_c - 255 * mean_c / inputScale` is in the Caffe range; dividing
/// conv1_1's input channel `c` by `k_c` makes the network read `x'`. Then multiplying conv1_1's
/// weights and every layer's bias by `activationScale` multiplies every activation by it, exactly
/// (convolution is linear, ReLU and both poolings are positively homogeneous): the network computes
/// `activationScale * F(x)`. `activationScale` is the geometric mean of the `k_c` (57.63 for
/// torchvision's std), the activations a Caffe-range input would give if activations scaled with the
/// input. Caffe-convention weights (std 1 at scale 255) have every factor exactly 1 and are left
/// untouched, bit for bit. Measurements: bench/RESULTS.md, "Same options, any model".
public struct InputNormalization: Equatable, Sendable {
    /// The input scale every loaded model has: pixels span 0...255.
    public static let caffeInputScale: Float = 255

    /// Per channel (in the model's channel order): the file's input times this is the Caffe-range input.
    public let inputFactors: [Float]
    /// Every activation of the normalised network is the file's network's times this.
    public let activationScale: Float

    /// The normalisation of weights whose input is `((rgb * inputScale)[order] - mean) / std`.
    public init(inputScale: Float, std: [Float]) {
        let factors = std.map { Double(Self.caffeInputScale) * Double($0) / Double(inputScale) }
        inputFactors = factors.map { Float($0) }
        activationScale = Float(exp(factors.map { log($0) }.reduce(0, +) / Double(factors.count)))
    }

    /// True when the weights already read the Caffe range: nothing to change.
    public var isIdentity: Bool { inputFactors.allSatisfy { $0 == 1 } && activationScale == 1 }
}

extension ModelWeights {
    /// The normalisation these weights get on loading (see `InputNormalization`).
    public var inputNormalization: InputNormalization { InputNormalization(inputScale: inputScale, std: std) }

    /// The same network reading the Caffe input range, its activations scaled by
    /// `inputNormalization.activationScale`; `self` when the weights already read that range.
    /// - Throws: `NSTError.weightsFormat` when a value of the file, finite there, overflows once scaled
    ///   (the loaded network must hold only finite values, as the file's validation promises).
    public func normalizedToCaffeRange() throws -> ModelWeights {
        let normalization = inputNormalization
        if normalization.isIdentity { return self }
        let scale = normalization.activationScale
        let firstLayer = architecture.convolutions[0].name
        var scaled = layers
        for (name, layer) in layers {
            var weight = layer.weight
            if name == firstLayer {
                // OIHW: input channel c of output o occupies weight[(o * channels + c) * 9 ..< +9].
                let channels = normalization.inputFactors.count
                let channelFactors = normalization.inputFactors.map { Float(Double(scale) / Double($0)) }
                for index in weight.indices {
                    weight[index] *= channelFactors[(index / 9) % channels]
                }
            }
            let bias = layer.bias.map { $0 * scale }
            guard weight.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else {
                throw NSTError.weightsFormat("\(name)'s values overflow Float when rescaled to the Caffe input range "
                                             + "(activation scale \(scale))")
            }
            scaled[name] = (weight, bias)
        }
        // x'_c = k_c * ((inputScale * rgb_c - mean_c) / std_c) = 255 * rgb_c - 255 * mean_c / inputScale
        let mean = mean.map { Float(Double(InputNormalization.caffeInputScale) * Double($0) / Double(inputScale)) }
        return ModelWeights(architecture: architecture, channelOrder: channelOrder,
                            inputScale: InputNormalization.caffeInputScale, mean: mean,
                            std: [Float](repeating: 1, count: std.count), source: source, layers: scaled)
    }
}
