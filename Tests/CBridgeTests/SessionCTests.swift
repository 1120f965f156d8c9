import CBridge
import CSwiftNST
import Foundation
import XCTest

/// Counts callback invocations and says stop after `stopAfter` of them (passed as user_data).
private final class CallbackLog {
    var losses: [nst_losses] = []
    let stopAfter: Int
    init(stopAfter: Int) { self.stopAfter = stopAfter }
}

private let progressCallback: nst_progress_callback = { losses, userData in
    guard let losses, let userData else { return 1 }
    let log = Unmanaged<CallbackLog>.fromOpaque(userData).takeUnretainedValue()
    log.losses.append(losses.pointee)
    return log.losses.count >= log.stopAfter ? 1 : 0
}

final class SessionCTests: XCTestCase {
    let side: Int64 = 16
    var count: Int { Int(3 * side * side) }

    private func makeSession(_ edit: (inout nst_session_params) -> Void = { _ in }) throws -> OpaquePointer {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }  // the session retains it
        var params = CBridge.nst_session_default_params()
        params.height = side
        params.width = side
        edit(&params)
        var session: OpaquePointer?
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &session), NST_OK, lastError())
        return try XCTUnwrap(session)
    }

    private func pattern(_ n: Int, seed: Int) -> [Float] {
        (0..<n).map { Float((($0 + seed) * 37 + seed * 11) % 101) / 101 - 0.5 }
    }

    func testInitRejectsBadParams() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        let edits: [(String, (inout nst_session_params) -> Void)] = [
            ("height", { $0.height = 0 }), ("width", { $0.width = Int64(NST_MAX_IMAGE_SIDE) + 1 }),
            ("pooling", { $0.pooling = 5 }), ("optimizer", { $0.optimizer = -1 }), ("objective", { $0.objective = 2 }),
            ("content_weight", { $0.content_weight = .nan }), ("style_weight", { $0.style_weight = -1 }),
            ("tv_weight", { $0.tv_weight = .infinity }), ("history", { $0.lbfgs_history = 0 }),
            ("lbfgs_line_search", { $0.lbfgs_line_search = 2 }),
            ("worker threads", { $0.n_threads = -2 }), ("learning rate", { $0.optimizer = NST_OPTIMIZER_ADAM; $0.learning_rate = 0 }),
            ("beta1", { $0.optimizer = NST_OPTIMIZER_ADAM; $0.adam_beta1 = 1 }),
            ("epsilon", { $0.optimizer = NST_OPTIMIZER_ADAM; $0.adam_epsilon = .nan }),
            ("too small", { $0.height = 16; $0.width = 8 }),  // cannot reach relu5_1
            ("style_loss", { $0.style_loss = 3 }), ("histogram_weight", { $0.histogram_weight = -1 }),
            ("histogram_weight", { $0.style_loss = NST_STYLE_LOSS_GRAM_HISTOGRAM; $0.histogram_weight = .nan }),
            ("style_loss='w2' does not support normalize_gradients yet", { $0.style_loss = NST_STYLE_LOSS_W2; $0.normalize_gradients = 1 }),
            ("style_loss='gram+histogram' does not support the Coursera objective yet",
             { $0.style_loss = NST_STYLE_LOSS_GRAM_HISTOGRAM; $0.objective = NST_OBJECTIVE_COURSERA }),
        ]
        for (fragment, edit) in edits {
            var params = CBridge.nst_session_default_params()
            params.height = 16
            params.width = 16
            edit(&params)
            var session: OpaquePointer?
            assertStatus(CBridge.nst_session_init(model, &params, &session), NST_ERR_INVALID_ARGUMENT,
                         "nst_session_init", fragment)
            XCTAssertNil(session)
        }
        var params = CBridge.nst_session_default_params()
        var session: OpaquePointer?
        assertStatus(CBridge.nst_session_init(model, nil, &session), NST_ERR_NULL_POINTER, "params")
        assertStatus(CBridge.nst_session_init(model, &params, nil), NST_ERR_NULL_POINTER, "session_out")
        assertStatus(CBridge.nst_session_init(nil, &params, &session), NST_ERR_INVALID_HANDLE, "model")
    }

    /// `params.objective` reaches the engine: with only the content term, the Coursera term is exactly a
    /// quarter of the neural-style one (sum / (4 C H W) against the mean), with the same gradient scaled.
    func testCourseraObjectiveScalesTheContentTerm() throws {
        func contentOnly(_ objective: Int32) throws -> (nst_losses, [Float]) {
            let session = try makeSession { $0.objective = objective; $0.style_weight = 0; $0.tv_weight = 0 }
            defer { CBridge.nst_session_free(session) }
            XCTAssertEqual(CBridge.nst_session_set_content_image(session, pattern(count, seed: 1), Int64(count)), NST_OK, lastError())
            var losses = nst_losses()
            var gradient = [Float](repeating: 0, count: count)
            XCTAssertEqual(CBridge.nst_session_evaluate(session, pattern(count, seed: 2), Int64(count), &gradient,
                                                        Int64(count), &losses), NST_OK, lastError())
            return (losses, gradient)
        }
        let (neuralStyle, neuralStyleGradient) = try contentOnly(NST_OBJECTIVE_NEURAL_STYLE)
        let (coursera, courseraGradient) = try contentOnly(NST_OBJECTIVE_COURSERA)
        XCTAssertGreaterThan(neuralStyle.content, 0)
        XCTAssertEqual(coursera.content, neuralStyle.content / 4, accuracy: 1e-12 * neuralStyle.content)
        XCTAssertEqual(courseraGradient, neuralStyleGradient.map { $0 / 4 })
    }

    func testLayerSetters() throws {
        let session = try makeSession()
        defer { CBridge.nst_session_free(session) }
        var weights: [Float] = [1, 0.5]
        withCStrings(["relu1_1", "relu2_1"]) { names in
            XCTAssertEqual(CBridge.nst_session_set_style_layers(session, names, weights, 2), NST_OK, lastError())
            assertStatus(CBridge.nst_session_set_style_layers(session, names, weights, -1), NST_ERR_INVALID_ARGUMENT, "0...31")
            assertStatus(CBridge.nst_session_set_style_layers(session, names, weights, 32), NST_ERR_INVALID_ARGUMENT, "0...31")
            assertStatus(CBridge.nst_session_set_content_layers(session, nil, weights, 1), NST_ERR_NULL_POINTER, "names")
            assertStatus(CBridge.nst_session_set_content_layers(session, names, nil, 1), NST_ERR_NULL_POINTER, "weights")
            weights[1] = .nan
            assertStatus(CBridge.nst_session_set_content_layers(session, names, weights, 2), NST_ERR_INVALID_ARGUMENT, "relu2_1", "finite")
        }
        withCStrings(["relu1_1", "conv9_9"]) { names in
            assertStatus(CBridge.nst_session_set_content_layers(session, names, [1, 1], 2), NST_ERR_UNKNOWN_LAYER, "conv9_9")
        }
        withCStrings(["relu1_1", "relu1_1"]) { names in
            assertStatus(CBridge.nst_session_set_content_layers(session, names, [1, 1], 2), NST_ERR_INVALID_ARGUMENT, "repeated")
        }
        XCTAssertEqual(CBridge.nst_session_set_content_layers(session, nil, nil, 0), NST_OK, "n = 0 removes the term")
        withCStrings(["relu2_1"]) { names in
            XCTAssertEqual(CBridge.nst_session_set_histogram_layers(session, names, [2], 1), NST_OK, lastError())
            assertStatus(CBridge.nst_session_set_histogram_layers(session, nil, [1], 1), NST_ERR_NULL_POINTER, "names")
            assertStatus(CBridge.nst_session_set_histogram_layers(session, names, [-1], 1), NST_ERR_INVALID_ARGUMENT, "relu2_1")
        }
        withCStrings(["pool9"]) { names in
            assertStatus(CBridge.nst_session_set_histogram_layers(session, names, [1], 1), NST_ERR_UNKNOWN_LAYER, "pool9")
        }
        assertStatus(CBridge.nst_session_set_histogram_layers(nil, nil, nil, 0), NST_ERR_INVALID_HANDLE, "session")
    }

    /// Each style loss runs through the ABI and gives its own style value; a histogram term with no style
    /// weight still needs a style image (NST_ERR_STATE without one).
    func testStyleLosses() throws {
        var styles: [Int32: Double] = [:]
        for kind in [NST_STYLE_LOSS_GRAM, NST_STYLE_LOSS_W2, NST_STYLE_LOSS_GRAM_HISTOGRAM] {
            let session = try makeSession { $0.style_loss = kind }
            defer { CBridge.nst_session_free(session) }
            let image = pattern(count, seed: 1)
            XCTAssertEqual(CBridge.nst_session_set_content_image(session, image, Int64(count)), NST_OK, lastError())
            XCTAssertEqual(CBridge.nst_session_add_style_image(session, pattern(count, seed: 2), Int64(count), side, side, 1),
                           NST_OK, lastError())
            var losses = nst_losses()
            XCTAssertEqual(CBridge.nst_session_evaluate(session, pattern(count, seed: 3), Int64(count), nil, 0, &losses), NST_OK, lastError())
            XCTAssertTrue(losses.style.isFinite && losses.style > 0, "\(kind): \(losses.style)")
            styles[kind] = losses.style
        }
        XCTAssertEqual(Set(styles.values).count, 3, "\(styles)")
        XCTAssertGreaterThan(styles[NST_STYLE_LOSS_GRAM_HISTOGRAM]!, styles[NST_STYLE_LOSS_GRAM]!, "the histogram term adds")

        let session = try makeSession { $0.style_loss = NST_STYLE_LOSS_GRAM_HISTOGRAM; $0.style_weight = 0; $0.content_weight = 0 }
        defer { CBridge.nst_session_free(session) }
        assertStatus(CBridge.nst_session_evaluate(session, pattern(count, seed: 3), Int64(count), nil, 0, nil), NST_ERR_STATE, "style")
    }

    /// Style masks (a region, a style image's mask, the session's style mask) need the Gram loss: the other
    /// losses refuse them with NST_ERR_INVALID_ARGUMENT and keep no image; the content mask works with all.
    func testOtherStyleLossesRefuseStyleMasks() throws {
        let mask = [Float](repeating: 1, count: Int(side * side))
        for kind in [NST_STYLE_LOSS_W2, NST_STYLE_LOSS_GRAM_HISTOGRAM] {
            let session = try makeSession { $0.style_loss = kind }
            defer { CBridge.nst_session_free(session) }
            let style = pattern(count, seed: 2)
            assertStatus(CBridge.nst_session_add_style_image_masked(session, style, Int64(count), side, side, 1, nil, 0,
                                                                    mask, Int64(mask.count)),
                         NST_ERR_INVALID_ARGUMENT, "does not support style masks yet")
            assertStatus(CBridge.nst_session_add_style_image_masked(session, style, Int64(count), side, side, 1,
                                                                    mask, Int64(mask.count), nil, 0),
                         NST_ERR_INVALID_ARGUMENT, "does not support a style image mask")
            assertStatus(CBridge.nst_session_set_masks(session, nil, 0, mask, Int64(mask.count)),
                         NST_ERR_INVALID_ARGUMENT, "does not support style masks yet")
            XCTAssertEqual(CBridge.nst_session_set_masks(session, mask, Int64(mask.count), nil, 0), NST_OK, lastError())
            XCTAssertEqual(CBridge.nst_session_set_content_image(session, pattern(count, seed: 1), Int64(count)), NST_OK, lastError())
            assertStatus(CBridge.nst_session_evaluate(session, pattern(count, seed: 3), Int64(count), nil, 0, nil),
                         NST_ERR_STATE, "no style image")
        }
    }

    func testRoundTripStepCancelAndBestImage() throws {
        let session = try makeSession()
        defer { CBridge.nst_session_free(session) }
        withCStrings(["relu1_1", "relu2_1"]) { names in
            XCTAssertEqual(CBridge.nst_session_set_style_layers(session, names, [1, 1], 2), NST_OK)
        }
        withCStrings(["relu2_2"]) { names in
            XCTAssertEqual(CBridge.nst_session_set_content_layers(session, names, [1], 1), NST_OK)
        }
        var losses = nst_losses()
        assertStatus(CBridge.nst_session_step(session, 1, nil, nil, &losses), NST_ERR_STATE, "content")

        let content = pattern(count, seed: 1)
        var nanContent = content
        nanContent[5] = -.infinity
        assertStatus(CBridge.nst_session_set_content_image(session, nanContent, Int64(count)), NST_ERR_NUMERIC, "NaN or infinity")
        XCTAssertEqual(CBridge.nst_session_set_content_image(session, content, Int64(count)), NST_OK, lastError())
        assertStatus(CBridge.nst_session_set_content_image(session, content, Int64(count) - 1), NST_ERR_SHAPE, "image")
        let style = pattern(3 * 20 * 24, seed: 2)
        assertStatus(CBridge.nst_session_add_style_image(session, style, Int64(style.count), 20, 24, 0), NST_ERR_INVALID_ARGUMENT, "blend weight")
        assertStatus(CBridge.nst_session_add_style_image(session, style, Int64(style.count), 24, 24, 1), NST_ERR_SHAPE, "image")
        let tooTall = [Float](repeating: 0, count: 3 * (Int(NST_MAX_IMAGE_SIDE) + 1))
        assertStatus(CBridge.nst_session_add_style_image(session, tooTall, Int64(tooTall.count), Int64(NST_MAX_IMAGE_SIDE) + 1, 1, 1),
                     NST_ERR_SHAPE, "height", "\(NST_MAX_IMAGE_SIDE)")
        assertStatus(CBridge.nst_session_add_style_image(session, nil, Int64(style.count), 20, 24, 1), NST_ERR_NULL_POINTER, "image")
        var nanStyle = style
        nanStyle[3] = .nan
        assertStatus(CBridge.nst_session_add_style_image(session, nanStyle, Int64(style.count), 20, 24, 1), NST_ERR_NUMERIC, "NaN")
        XCTAssertEqual(CBridge.nst_session_add_style_image(session, style, Int64(style.count), 20, 24, 1), NST_OK, lastError())

        let start = pattern(count, seed: 3)
        XCTAssertEqual(CBridge.nst_session_set_image(session, start, Int64(count)), NST_OK)
        var best = [Float](repeating: 0, count: count)
        XCTAssertEqual(CBridge.nst_session_get_best_image(session, &best, Int64(count), &losses), NST_OK)
        XCTAssertEqual(best, start, "before any step the best image is the one set")
        XCTAssertTrue(losses.total.isNaN)

        // Evaluate leaves the session alone and checks its buffers.
        var gradient = [Float](repeating: 0, count: count)
        var evaluated = nst_losses()
        XCTAssertEqual(CBridge.nst_session_evaluate(session, start, Int64(count), &gradient, Int64(count), &evaluated), NST_OK)
        XCTAssertGreaterThan(evaluated.total, 0)
        XCTAssertEqual(evaluated.total, evaluated.content + evaluated.style + evaluated.tv, accuracy: 1e-9 * evaluated.total)
        XCTAssertTrue(gradient.contains { $0 != 0 })
        assertStatus(CBridge.nst_session_evaluate(session, start, Int64(count), &gradient, 3, nil), NST_ERR_SHAPE, "gradient_out")
        var nanImage = start
        nanImage[0] = .infinity
        assertStatus(CBridge.nst_session_evaluate(session, nanImage, Int64(count), nil, 0, nil), NST_ERR_NUMERIC)
        assertStatus(CBridge.nst_session_set_image(session, nanImage, Int64(count)), NST_ERR_NUMERIC)

        // Step with a callback that stops after the third step.
        let log = CallbackLog(stopAfter: 3)
        let status = CBridge.nst_session_step(session, 10, progressCallback, Unmanaged.passUnretained(log).toOpaque(), &losses)
        assertStatus(status, NST_ERR_CANCELLED, "cancelled")
        XCTAssertEqual(log.losses.map(\.iteration), [1, 2, 3])
        XCTAssertEqual(losses.iteration, 3, "losses_out holds the last step even when cancelled")
        XCTAssertEqual(log.losses[0].total, evaluated.total, accuracy: 1e-6 * evaluated.total, "step 1 evaluates the set image")

        XCTAssertEqual(CBridge.nst_session_step(session, 5, nil, nil, &losses), NST_OK)
        XCTAssertEqual(losses.iteration, 8)
        XCTAssertEqual(losses.evaluations, 8)
        assertStatus(CBridge.nst_session_step(session, -1, nil, nil, nil), NST_ERR_INVALID_ARGUMENT, "step count")

        var image = [Float](repeating: 0, count: count)
        XCTAssertEqual(CBridge.nst_session_get_image(session, &image, Int64(count)), NST_OK)
        XCTAssertNotEqual(image, start)
        assertStatus(CBridge.nst_session_get_image(session, &image, 12), NST_ERR_SHAPE, "image_out")
        assertStatus(CBridge.nst_session_get_image(session, nil, Int64(count)), NST_ERR_NULL_POINTER, "image_out")

        var bestLosses = nst_losses()
        XCTAssertEqual(CBridge.nst_session_get_best_image(session, &best, Int64(count), &bestLosses), NST_OK)
        XCTAssertLessThan(bestLosses.total, evaluated.total)
        XCTAssertLessThanOrEqual(bestLosses.total, log.losses.map(\.total).min()!)
        var check = nst_losses()
        XCTAssertEqual(CBridge.nst_session_evaluate(session, best, Int64(count), nil, 0, &check), NST_OK)
        XCTAssertEqual(check.total, bestLosses.total, accuracy: 1e-4 * bestLosses.total)

        XCTAssertEqual(CBridge.nst_session_clear_style_images(session), NST_OK)
        assertStatus(CBridge.nst_session_step(session, 1, nil, nil, nil), NST_ERR_STATE, "style")
    }
}
