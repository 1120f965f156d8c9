// The Session section of swiftnst.h. Each export's contract (arguments, statuses, state on error)
// is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h, not repeated here.

import CSwiftNST
import NSTEngine

extension nst_losses {
    init(_ losses: ObjectiveLosses, iteration: Int, evaluations: Int) {
        self.init(total: losses.total, content: losses.content, style: losses.style, tv: losses.tv, temporal: losses.temporal,
                  iteration: Int64(iteration), evaluations: Int64(evaluations))
    }

    init(_ progress: StyleTransferSession.Progress) {
        self.init(progress.losses, iteration: progress.iteration, evaluations: progress.evaluations)
    }
}

extension StyleTransferSession.Configuration.Optimizer: CCoded {
    var cCode: Int32 { switch self { case .lbfgs: NST_OPTIMIZER_LBFGS; case .adam: NST_OPTIMIZER_ADAM } }
}

extension ObjectiveConvention: CCoded {
    var cCode: Int32 { switch self { case .neuralStyle: NST_OBJECTIVE_NEURAL_STYLE; case .coursera: NST_OBJECTIVE_COURSERA } }
}

extension LBFGSStorage: CCoded {
    var cCode: Int32 { switch self { case .float32: NST_LBFGS_STORAGE_FLOAT32; case .bfloat16: NST_LBFGS_STORAGE_BFLOAT16 } }
}

extension StyleTransferSession.Configuration.LineSearch: CCoded {
    var cCode: Int32 { switch self { case .none: NST_LINE_SEARCH_NONE; case .armijo: NST_LINE_SEARCH_ARMIJO } }
}

extension StyleLossKind: CCoded {
    var cCode: Int32 {
        switch self {
        case .gram: NST_STYLE_LOSS_GRAM
        case .wasserstein2: NST_STYLE_LOSS_W2
        case .gramAndHistogram: NST_STYLE_LOSS_GRAM_HISTOGRAM
        }
    }
}

extension StyleTransferSession.Configuration {
    /// The engine's configuration for `nst_session_params`. Only the enumeration codes are checked here;
    /// the engine checks the values (`StyleTransferSession.init`).
    init(_ p: nst_session_params) throws {
        self.init()
        height = Int(p.height)
        width = Int(p.width)
        pooling = try CBridge.pooling(p.pooling)
        optimizer = try Optimizer(cCode: p.optimizer, "params.optimizer must be NST_OPTIMIZER_LBFGS or NST_OPTIMIZER_ADAM")
        objectiveConvention = try ObjectiveConvention(
            cCode: p.objective, "params.objective must be NST_OBJECTIVE_NEURAL_STYLE or NST_OBJECTIVE_COURSERA")
        contentWeight = p.content_weight
        styleWeight = p.style_weight
        tvWeight = p.tv_weight
        learningRate = p.learning_rate
        adamBeta1 = p.adam_beta1
        adamBeta2 = p.adam_beta2
        adamEpsilon = p.adam_epsilon
        lbfgsHistory = Int(p.lbfgs_history)
        if optimizer == .lbfgs {
            lbfgsStorage = try LBFGSStorage(
                cCode: p.lbfgs_storage, "params.lbfgs_storage must be NST_LBFGS_STORAGE_FLOAT32 or NST_LBFGS_STORAGE_BFLOAT16")
            lbfgsLineSearch = try LineSearch(
                cCode: p.lbfgs_line_search, "params.lbfgs_line_search must be NST_LINE_SEARCH_NONE or NST_LINE_SEARCH_ARMIJO")
        }
        threadCount = Int(p.n_threads)
        guard p.normalize_gradients == 0 || p.normalize_gradients == 1 else {
            throw BridgeError.invalidArgument("params.normalize_gradients must be 0 or 1, got \(p.normalize_gradients)")
        }
        normalizeGradients = p.normalize_gradients == 1
        styleLoss = try StyleLossKind(
            cCode: p.style_loss, "params.style_loss must be NST_STYLE_LOSS_GRAM, NST_STYLE_LOSS_W2 or NST_STYLE_LOSS_GRAM_HISTOGRAM")
        histogramWeight = p.histogram_weight
    }
}

extension nst_session_params {
    /// The C form of an engine configuration.
    init(_ c: StyleTransferSession.Configuration) {
        self.init(height: Int64(c.height), width: Int64(c.width), pooling: c.pooling.cCode,
                  optimizer: c.optimizer.cCode, objective: c.objectiveConvention.cCode, content_weight: c.contentWeight, style_weight: c.styleWeight,
                  tv_weight: c.tvWeight, learning_rate: c.learningRate, adam_beta1: c.adamBeta1, adam_beta2: c.adamBeta2,
                  adam_epsilon: c.adamEpsilon, lbfgs_history: Int32(clamping: c.lbfgsHistory),
                  lbfgs_storage: c.lbfgsStorage.cCode,
                  lbfgs_line_search: c.lbfgsLineSearch.cCode,
                  n_threads: Int32(clamping: c.threadCount), normalize_gradients: c.normalizeGradients ? 1 : 0,
                  style_loss: c.styleLoss.cCode, histogram_weight: c.histogramWeight)
    }
}

@_cdecl("nst_session_default_params")
public func nst_session_default_params() -> nst_session_params {
    nst_session_params(StyleTransferSession.Configuration())
}

@_cdecl("nst_session_init")
public func nst_session_init(_ model: OpaquePointer?, _ params: UnsafePointer<nst_session_params>?,
                             _ sessionOut: UnsafeMutablePointer<OpaquePointer?>?) -> nst_status {
    bridge("nst_session_init") {
        let model = try ModelHandle.from(model)
        let p = try required(params, "params").pointee
        let out = try required(sessionOut, "session_out")
        let session = try StyleTransferSession(network: model.network,
                                               configuration: StyleTransferSession.Configuration(p))
        out.pointee = try HandleRegistry.shared.register(SessionHandle(model: model, session: session))
    }
}

@_cdecl("nst_session_free")
public func nst_session_free(_ session: OpaquePointer?) {
    // A step running on the session (from whose callback this may be called) holds its own reference:
    // it stops after the current step, and the session is released when it returns.
    HandleRegistry.shared.lookup(session, as: SessionHandle.self)?.markFreed()
    HandleRegistry.shared.remove(session, as: SessionHandle.self)
}

/// Shared body of the two layer setters.
private func setLayers(_ function: StaticString, _ handle: OpaquePointer?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
                       _ weights: UnsafePointer<Float>?, _ n: Int32,
                       _ apply: (StyleTransferSession, [(name: String, weight: Float)]) throws -> Void) -> nst_status {
    bridge(function) {
        let handle = try SessionHandle.from(handle)
        let list = try layerNames(names, count: n, minimum: 0, maximum: Int(handle.model.info.n_layers), "names")
        let values = n > 0 ? Array(try floats(weights, count: Int(n), "weights")) : []
        try handle.changing { try apply($0, Array(zip(list, values))) }
    }
}

@_cdecl("nst_session_set_content_layers")
public func nst_session_set_content_layers(_ session: OpaquePointer?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
                                           _ weights: UnsafePointer<Float>?, _ n: Int32) -> nst_status {
    setLayers("nst_session_set_content_layers", session, names, weights, n) { try $0.setContentLayers($1) }
}

@_cdecl("nst_session_set_style_layers")
public func nst_session_set_style_layers(_ session: OpaquePointer?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
                                         _ weights: UnsafePointer<Float>?, _ n: Int32) -> nst_status {
    setLayers("nst_session_set_style_layers", session, names, weights, n) { try $0.setStyleLayers($1) }
}

@_cdecl("nst_session_set_histogram_layers")
public func nst_session_set_histogram_layers(_ session: OpaquePointer?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
                                             _ weights: UnsafePointer<Float>?, _ n: Int32) -> nst_status {
    setLayers("nst_session_set_histogram_layers", session, names, weights, n) { try $0.setHistogramLayers($1) }
}

@_cdecl("nst_session_set_content_image")
public func nst_session_set_content_image(_ session: OpaquePointer?, _ image: UnsafePointer<Float>?,
                                          _ imageCount: Int64) -> nst_status {
    bridge("nst_session_set_content_image") {
        let handle = try SessionHandle.from(session)
        let pixels = try handle.image(image, count: imageCount)
        try handle.changing { try $0.setContent(image: pixels) }
    }
}

@_cdecl("nst_session_add_style_image")
public func nst_session_add_style_image(_ session: OpaquePointer?, _ image: UnsafePointer<Float>?, _ imageCount: Int64,
                                        _ height: Int64, _ width: Int64, _ blendWeight: Float) -> nst_status {
    bridge("nst_session_add_style_image") {
        let handle = try SessionHandle.from(session)
        // The engine checks the sides' range and the blend weight; here only the count the buffer needs.
        let count = try elementCount([3, height, width], "image")
        try checkCount(imageCount, count, "image")
        let pixels = try floats(image, count: count, "image")
        try handle.changing {
            try $0.addStyle(image: pixels, height: Int(height), width: Int(width), weight: Double(blendWeight))
        }
    }
}

@_cdecl("nst_session_clear_style_images")
public func nst_session_clear_style_images(_ session: OpaquePointer?) -> nst_status {
    bridge("nst_session_clear_style_images") {
        try SessionHandle.from(session).changing { $0.clearStyles() }
    }
}

@_cdecl("nst_session_evaluate")
public func nst_session_evaluate(_ session: OpaquePointer?, _ image: UnsafePointer<Float>?, _ imageCount: Int64,
                                 _ gradientOut: UnsafeMutablePointer<Float>?, _ gradientCount: Int64,
                                 _ lossesOut: UnsafeMutablePointer<nst_losses>?) -> nst_status {
    bridge("nst_session_evaluate") {
        let handle = try SessionHandle.from(session)
        let pixels = try handle.image(image, count: imageCount)
        var gradient: UnsafeMutableBufferPointer<Float>?
        if let gradientOut {
            try checkCount(gradientCount, pixels.count, "gradient_out")
            gradient = UnsafeMutableBufferPointer(start: gradientOut, count: pixels.count)
        }
        // Evaluate into a private buffer so the caller's gradient is untouched on error.
        var scratch = [Float](repeating: 0, count: gradient == nil ? 0 : pixels.count)
        let (losses, iteration, evaluations) = try handle.changing { s in
            let losses = try scratch.withUnsafeMutableBufferPointer { g in
                try s.evaluate(image: pixels, gradient: gradient == nil ? nil : g)
            }
            return (losses, s.iteration, s.evaluations)
        }
        if let gradient { _ = gradient.update(fromContentsOf: scratch) }
        lossesOut?.pointee = nst_losses(losses, iteration: iteration, evaluations: evaluations)
    }
}

@_cdecl("nst_session_set_image")
public func nst_session_set_image(_ session: OpaquePointer?, _ image: UnsafePointer<Float>?, _ imageCount: Int64) -> nst_status {
    bridge("nst_session_set_image") {
        let handle = try SessionHandle.from(session)
        let pixels = try handle.image(image, count: imageCount)
        try handle.changing { try $0.setImage(pixels) }
    }
}

@_cdecl("nst_session_step")
public func nst_session_step(_ session: OpaquePointer?, _ nSteps: Int32, _ callback: nst_progress_callback?,
                             _ userData: UnsafeMutableRawPointer?, _ lossesOut: UnsafeMutablePointer<nst_losses>?) -> nst_status {
    bridge("nst_session_step") {
        let handle = try SessionHandle.from(session)
        // Always a progress closure: a session freed during the step (from its callback or, against
        // the one-thread rule, from another thread) stops it after the current step.
        let progress: (StyleTransferSession.Progress) -> Bool = { progress in
            guard let callback else { return !handle.isFreed }
            return handle.runProgressCallback {
                var losses = nst_losses(progress)
                return callback(&losses, userData) == 0
            }
        }
        try handle.changing { s in
            do {
                if let last = try s.step(count: Int(nSteps), progress: progress) {
                    lossesOut?.pointee = nst_losses(last)
                }
            } catch NSTError.cancelled {
                // The header promises the losses of the last step even when the callback stopped it.
                if let last = s.lastProgress { lossesOut?.pointee = nst_losses(last) }
                if handle.isFreed { throw BridgeError(status: NST_ERR_CANCELLED, message: "the session was freed during the step") }
                throw NSTError.cancelled
            }
        }
    }
}

@_cdecl("nst_session_get_image")
public func nst_session_get_image(_ session: OpaquePointer?, _ imageOut: UnsafeMutablePointer<Float>?,
                                  _ imageCount: Int64) -> nst_status {
    bridge("nst_session_get_image") {
        let handle = try SessionHandle.from(session)
        try checkCount(imageCount, handle.session.imageCount, "image_out")
        let out = try mutableFloats(imageOut, count: handle.session.imageCount, "image_out")
        handle.reading { _ = out.update(fromContentsOf: $0.image) }
    }
}

@_cdecl("nst_session_get_best_image")
public func nst_session_get_best_image(_ session: OpaquePointer?, _ imageOut: UnsafeMutablePointer<Float>?,
                                       _ imageCount: Int64, _ lossesOut: UnsafeMutablePointer<nst_losses>?) -> nst_status {
    bridge("nst_session_get_best_image") {
        let handle = try SessionHandle.from(session)
        try checkCount(imageCount, handle.session.imageCount, "image_out")
        let out = try mutableFloats(imageOut, count: handle.session.imageCount, "image_out")
        handle.reading { s in
            _ = out.update(fromContentsOf: s.bestImage)
            // Before any evaluation the best image has no losses: report NaN rather than a fake value.
            lossesOut?.pointee = s.bestProgress.map(nst_losses.init)
                ?? nst_losses(ObjectiveLosses(content: .nan, style: .nan, tv: .nan, temporal: .nan), iteration: s.iteration, evaluations: s.evaluations)
        }
    }
}
