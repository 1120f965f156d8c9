import CBridge
import CSwiftNST
import XCTest

final class CostsAndOpsCTests: XCTestCase {
    func testGramMatrix() {
        let features: [Float] = [1, 2, 3, 4, 5, 6]  // [2, 3]
        var gram = [Float](repeating: 0, count: 4)
        XCTAssertEqual(CBridge.nst_gram_matrix(features, 2, 3, &gram, 4), NST_OK)
        XCTAssertEqual(gram, [14, 32, 32, 77])
        assertStatus(CBridge.nst_gram_matrix(features, 2, 3, &gram, 5), NST_ERR_SHAPE, "gram_out")
        assertStatus(CBridge.nst_gram_matrix(features, 0, 3, &gram, 0), NST_ERR_SHAPE, "features")
        assertStatus(CBridge.nst_gram_matrix(features, Int64.max, 3, &gram, 4), NST_ERR_SHAPE, "overflow")
        assertStatus(CBridge.nst_gram_matrix(features, 2, 3, nil, 4), NST_ERR_NULL_POINTER, "gram_out")
        // A Gram matrix of 2^24 channels needs 1 PiB: refused before any buffer is touched (the sizes are
        // consistent, so only the memory check can stop it).
        let channels: Int64 = 1 << 24
        assertStatus(CBridge.nst_gram_matrix(features, channels, 1, &gram, channels * channels), NST_ERR_OUT_OF_MEMORY,
                     "Gram matrix")
    }

    func testTutorialCosts() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [0, 2, 3, 6]  // [1, 2, 2]
        var cost = 0.0
        XCTAssertEqual(CBridge.nst_content_cost(a, b, 1, 2, 2, &cost), NST_OK)
        XCTAssertEqual(cost, 5.0 / 16, accuracy: 1e-12)
        XCTAssertEqual(CBridge.nst_layer_style_cost(a, b, 1, 2, 2, &cost), NST_OK)
        // Gram(a) = 30, Gram(b) = 49: (30 − 49)² / (4 · 1² · 4²).
        let expected: Double = 361.0 / 64.0
        XCTAssertEqual(cost, expected, accuracy: 1e-9)
        assertStatus(CBridge.nst_content_cost(a, nil, 1, 2, 2, &cost), NST_ERR_NULL_POINTER, "a_g")
        assertStatus(CBridge.nst_layer_style_cost(a, b, 1, 2, 2, nil), NST_ERR_NULL_POINTER, "cost_out")
        assertStatus(CBridge.nst_content_cost(a, b, -1, 2, 2, &cost), NST_ERR_SHAPE)
    }

    func testConvolutionOps() {
        // One in/out channel, centre tap 2, bias 1: output = 2·input + 1; its input gradient is 2·grad.
        var weight = [Float](repeating: 0, count: 9)
        weight[4] = 2
        let input: [Float] = [1, 2, 3, 4, 5, 6]
        var output = [Float](repeating: 0, count: 6)
        XCTAssertEqual(CBridge.nst_op_conv3x3_forward(input, 1, 2, 3, weight, [1], 1, &output, 6), NST_OK, lastError())
        XCTAssertEqual(output, [3, 5, 7, 9, 11, 13])
        var gradInput = [Float](repeating: 0, count: 6)
        XCTAssertEqual(CBridge.nst_op_conv3x3_backward_input(input, 1, 2, 3, weight, 1, &gradInput, 6), NST_OK, lastError())
        XCTAssertEqual(gradInput, input.map { 2 * $0 })
        assertStatus(CBridge.nst_op_conv3x3_forward(input, 1, 2, 3, weight, nil, 1, &output, 6), NST_ERR_NULL_POINTER, "bias")
        assertStatus(CBridge.nst_op_conv3x3_forward(input, 1, 2, 3, weight, [1], 1, &output, 7), NST_ERR_SHAPE, "output")
        assertStatus(CBridge.nst_op_conv3x3_forward(input, 1, 2, 3, weight, [1], Int64.max / 2, &output, 6), NST_ERR_SHAPE, "overflow")
        assertStatus(CBridge.nst_op_conv3x3_backward_input(input, 1, 2, 3, nil, 1, &gradInput, 6), NST_ERR_NULL_POINTER, "weight")
        // 2^20 x 2^20 channels: 9·2^40 weights, refused before the weights (or anything else) are read.
        let wide: Int64 = 1 << 20
        assertStatus(CBridge.nst_op_conv3x3_forward(input, wide, 1, 1, weight, [1], wide, &output, wide),
                     NST_ERR_OUT_OF_MEMORY, "conv3x3 weights")
    }

    func testElementwiseAndPoolingOps() {
        let x: [Float] = [-1, 2, 0, 3]
        var y = [Float](repeating: 9, count: 4)
        XCTAssertEqual(CBridge.nst_op_relu_forward(x, &y, 4), NST_OK)
        XCTAssertEqual(y, [0, 2, 0, 3])
        XCTAssertEqual(CBridge.nst_op_relu_backward(x, [1, 1, 1, 1], &y, 4), NST_OK)
        XCTAssertEqual(y, [0, 1, 0, 1])
        assertStatus(CBridge.nst_op_relu_forward(x, &y, -1), NST_ERR_SHAPE, "count")
        assertStatus(CBridge.nst_op_relu_backward(x, nil, &y, 4), NST_ERR_NULL_POINTER, "grad_output")

        var pooled: [Float] = [0]
        XCTAssertEqual(CBridge.nst_op_pool2x2_forward(NST_POOLING_MAX, x, 1, 2, 2, &pooled, 1), NST_OK)
        XCTAssertEqual(pooled, [3])
        XCTAssertEqual(CBridge.nst_op_pool2x2_forward(NST_POOLING_AVG, x, 1, 2, 2, &pooled, 1), NST_OK)
        XCTAssertEqual(pooled, [1])
        var grad = [Float](repeating: 9, count: 4)
        XCTAssertEqual(CBridge.nst_op_pool2x2_backward(NST_POOLING_MAX, x, 1, 2, 2, [5], 1, &grad, 4), NST_OK)
        XCTAssertEqual(grad, [0, 0, 0, 5])
        assertStatus(CBridge.nst_op_pool2x2_forward(7, x, 1, 2, 2, &pooled, 1), NST_ERR_INVALID_ARGUMENT, "pooling")
        assertStatus(CBridge.nst_op_pool2x2_backward(NST_POOLING_MAX, x, 1, 2, 2, [5], 2, &grad, 4), NST_ERR_SHAPE, "grad_output")

        // Gram backward: (G' + G'ᵀ) F with G' = [[1, 0], [0, 0]] on F = [[1, 2], [3, 4]] → [[2, 4], [0, 0]].
        var gradFeatures = [Float](repeating: 9, count: 4)
        XCTAssertEqual(CBridge.nst_op_gram_backward([1, 2, 3, 4], 2, 2, [1, 0, 0, 0], &gradFeatures, 4), NST_OK)
        XCTAssertEqual(gradFeatures, [2, 4, 0, 0])
        assertStatus(CBridge.nst_op_gram_backward([1, 2, 3, 4], 2, 2, [1, 0, 0, 0], &gradFeatures, 3), NST_ERR_SHAPE, "grad_features")
    }
}
