// The Model section of swiftnst.h. Each export's contract (arguments, statuses, state on error)
// is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h, not repeated here.

import CSwiftNST
import Glibc
import NSTEngine

/// What an `nst_model` handle names: the network, normalised to the Caffe input range
/// (`InputNormalization`), plus the input convention it then has.
/// The raw weight arrays are not kept (the network's kernels hold their own copy).
final class ModelHandle {
    let network: FeatureNetwork
    let info: nst_model_info
    /// NUL-terminated layer names owned by the model, for `nst_model_layer_name`.
    private let cNames: [UnsafeMutablePointer<CChar>]

    init(file: ModelWeights) throws {
        let weights = try file.normalizedToCaffeRange()
        network = try weights.makeNetwork()
        let mean = weights.mean, std = weights.std
        info = nst_model_info(
            architecture: weights.architecture == .vgg19 ? NST_ARCH_VGG19 : NST_ARCH_VGG16,
            n_layers: Int32(network.layers.count),
            channel_order: weights.channelOrder == .rgb ? NST_CHANNELS_RGB : NST_CHANNELS_BGR,
            input_scale: weights.inputScale,
            mean: (mean[0], mean[1], mean[2]),
            std: (std[0], std[1], std[2]))
        cNames = network.layerNames.compactMap { strdup($0) }
        guard cNames.count == network.layers.count else { throw NSTError.outOfMemory("cannot copy layer names") }
    }

    deinit { cNames.forEach { free($0) } }

    func layerName(_ index: Int32) -> UnsafePointer<CChar>? {
        guard index >= 0, Int(index) < cNames.count else { return nil }
        return UnsafePointer(cNames[Int(index)])
    }

    static func from(_ handle: OpaquePointer?) throws -> ModelHandle {
        guard let model = HandleRegistry.shared.lookup(handle, as: ModelHandle.self) else {
            throw BridgeError.invalidHandle("model")
        }
        return model
    }
}

@_cdecl("nst_model_load_from_file")
public func nst_model_load_from_file(_ path: UnsafePointer<CChar>?,
                                     _ modelOut: UnsafeMutablePointer<OpaquePointer?>?) -> nst_status {
    bridge("nst_model_load_from_file") {
        let path = try required(path, "path")
        let out = try required(modelOut, "model_out")
        guard let text = String(validatingCString: path) else { throw NSTError.io("path is not valid UTF-8") }
        let model = try ModelHandle(file: ModelWeights(contentsOf: text))
        out.pointee = try HandleRegistry.shared.register(model)
    }
}

@_cdecl("nst_model_free")
public func nst_model_free(_ model: OpaquePointer?) {
    HandleRegistry.shared.remove(model, as: ModelHandle.self)
}

@_cdecl("nst_model_get_info")
public func nst_model_get_info(_ model: OpaquePointer?, _ infoOut: UnsafeMutablePointer<nst_model_info>?) -> nst_status {
    bridge("nst_model_get_info") {
        let model = try ModelHandle.from(model)
        try required(infoOut, "info_out").pointee = model.info
    }
}

@_cdecl("nst_model_layer_name")
public func nst_model_layer_name(_ model: OpaquePointer?, _ index: Int32,
                                 _ nameOut: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> nst_status {
    bridge("nst_model_layer_name") {
        let model = try ModelHandle.from(model)
        let out = try required(nameOut, "name_out")
        guard let name = model.layerName(index) else {
            throw BridgeError.invalidArgument("layer index must be 0...\(model.info.n_layers - 1), got \(index)")
        }
        out.pointee = name
    }
}

@_cdecl("nst_model_layer_shape")
public func nst_model_layer_shape(_ model: OpaquePointer?, _ layer: UnsafePointer<CChar>?,
                                  _ height: Int64, _ width: Int64, _ shapeOut: UnsafeMutablePointer<Int64>?) -> nst_status {
    bridge("nst_model_layer_shape") {
        let model = try ModelHandle.from(model)
        let name = try layerName(layer, "layer")
        let out = try required(shapeOut, "shape_out")
        let shape = try model.network.outputShape(of: name, height: try imageSide(height, "height"),
                                                  width: try imageSide(width, "width"))
        out[0] = Int64(shape.channels)
        out[1] = Int64(shape.height)
        out[2] = Int64(shape.width)
    }
}

@_cdecl("nst_model_forward")
public func nst_model_forward(_ model: OpaquePointer?, _ image: UnsafePointer<Float>?, _ imageCount: Int64,
                              _ height: Int64, _ width: Int64, _ poolingValue: Int32,
                              _ layers: UnsafePointer<UnsafePointer<CChar>?>?, _ nLayers: Int32,
                              _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                              _ outputCounts: UnsafePointer<Int64>?) -> nst_status {
    bridge("nst_model_forward") {
        let model = try ModelHandle.from(model)
        let network = model.network
        let h = try imageSide(height, "height"), w = try imageSide(width, "width")
        try checkCount(imageCount, 3 * h * w, "image")
        let pixels = try floats(image, count: 3 * h * w, "image")
        let pool = try pooling(poolingValue)
        let names = try layerNames(layers, count: nLayers, minimum: 1, maximum: network.layers.count, "layers")
        let outputArray = try required(outputs, "outputs")
        let counts = try required(outputCounts, "output_counts")

        var requests: [(index: Int, output: UnsafeMutableBufferPointer<Float>)] = []
        for (i, name) in names.enumerated() {
            guard let index = network.layerIndex(name) else { throw NSTError.unknownLayer(name) }
            let shape = try network.outputShape(of: name, height: h, width: w)
            let expected = shape.channels * shape.height * shape.width
            try checkCount(counts[i], expected, "outputs[\(i)] (layer \(name))")
            requests.append((index, try mutableFloats(outputArray[i], count: expected, "outputs[\(i)]")))
        }
        // A fresh evaluation per call keeps the model immutable, so threads may share it.
        let evaluation = NetworkEvaluation(network: network)
        try network.forward(image: pixels, height: h, width: w, requested: Set(requests.map(\.index)),
                            pooling: pool, evaluation: evaluation)
        for request in requests {
            try evaluation.withActivation(layer: request.index) { values in
                _ = request.output.initialize(from: values)
            }
        }
    }
}
