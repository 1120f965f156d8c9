import CBridge
import CSwiftNST
import Foundation
import NSTEngine
import XCTest

/// The header states the session defaults and the limits; the engine holds them. These tests keep the
/// three (header text, `nst_session_default_params()`, the engine's values) from drifting apart.
final class DefaultsAndLimitsTests: XCTestCase {
    /// `nst_session_default_params()` field by field, by the header's field names.
    private static func defaultParamsByName() -> [String: Double] {
        let p = CBridge.nst_session_default_params()
        return [
            "height": Double(p.height), "width": Double(p.width), "pooling": Double(p.pooling),
            "optimizer": Double(p.optimizer), "objective": Double(p.objective), "content_weight": Double(p.content_weight),
            "style_weight": Double(p.style_weight), "tv_weight": Double(p.tv_weight),
            "learning_rate": Double(p.learning_rate), "adam_beta1": Double(p.adam_beta1),
            "adam_beta2": Double(p.adam_beta2), "adam_epsilon": Double(p.adam_epsilon),
            "lbfgs_history": Double(p.lbfgs_history), "lbfgs_storage": Double(p.lbfgs_storage),
            "lbfgs_line_search": Double(p.lbfgs_line_search),
            "n_threads": Double(p.n_threads), "normalize_gradients": Double(p.normalize_gradients),
            "style_loss": Double(p.style_loss), "histogram_weight": Double(p.histogram_weight),
        ]
    }

    private static let header: String = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/CSwiftNST/include/swiftnst.h").standardized.path
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }()

    func testDefaultParamsAreTheEngineConfiguration() {
        let c = StyleTransferSession.Configuration()
        let p = CBridge.nst_session_default_params()
        XCTAssertEqual(p.height, Int64(c.height))
        XCTAssertEqual(p.width, Int64(c.width))
        XCTAssertEqual(p.pooling, c.pooling == .max ? NST_POOLING_MAX : NST_POOLING_AVG)
        XCTAssertEqual(p.optimizer, c.optimizer == .lbfgs ? NST_OPTIMIZER_LBFGS : NST_OPTIMIZER_ADAM)
        XCTAssertEqual(p.objective, c.objectiveConvention == .neuralStyle ? NST_OBJECTIVE_NEURAL_STYLE : NST_OBJECTIVE_COURSERA)
        XCTAssertEqual(p.content_weight, c.contentWeight)
        XCTAssertEqual(p.style_weight, c.styleWeight)
        XCTAssertEqual(p.tv_weight, c.tvWeight)
        XCTAssertEqual(p.learning_rate, c.learningRate)
        XCTAssertEqual(p.adam_beta1, c.adamBeta1)
        XCTAssertEqual(p.adam_beta2, c.adamBeta2)
        XCTAssertEqual(p.adam_epsilon, c.adamEpsilon)
        XCTAssertEqual(p.lbfgs_history, Int32(c.lbfgsHistory))
        XCTAssertEqual(p.lbfgs_storage, c.lbfgsStorage == .float32 ? NST_LBFGS_STORAGE_FLOAT32 : NST_LBFGS_STORAGE_BFLOAT16)
        XCTAssertEqual(p.lbfgs_line_search, c.lbfgsLineSearch == .none ? NST_LINE_SEARCH_NONE : NST_LINE_SEARCH_ARMIJO)
        XCTAssertEqual(p.n_threads, Int32(c.threadCount))
        XCTAssertEqual(p.normalize_gradients, c.normalizeGradients ? 1 : 0)
        XCTAssertEqual(p.style_loss, NST_STYLE_LOSS_GRAM)
        XCTAssertEqual(c.styleLoss, .gram)
        XCTAssertEqual(p.histogram_weight, c.histogramWeight)
    }

    /// Every field of `nst_session_params` in the header states its default ("default X", or
    /// "NST_X (default)" for a code), and each equals what `nst_session_default_params()` returns.
    func testHeaderCommentsStateTheDefaultParams() throws {
        let header = Self.header
        XCTAssertFalse(header.isEmpty, "swiftnst.h not found next to the tests")
        let start = try XCTUnwrap(header.range(of: "typedef struct nst_session_params {"))
        let end = try XCTUnwrap(header.range(of: "} nst_session_params;", range: start.upperBound..<header.endIndex))
        // A field's comment may continue on the lines after it: comment-only lines indented to the
        // comment column (a comment at the fields' indentation is about the fields below it).
        var comments: [String: String] = [:]
        var current: String?
        for line in header[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if let field = text.firstMatch(of: /^(?:int32_t|int64_t|float)\s+(\w+);\s*\/\/(.*)$/) {
                current = String(field.1)
                comments[String(field.1)] = String(field.2)
            } else if text.hasPrefix("//"), line.hasPrefix(String(repeating: " ", count: 8)), let name = current {
                comments[name, default: ""] += " " + text.dropFirst(2)
            } else {
                current = nil
            }
        }
        let expected = Self.defaultParamsByName()
        XCTAssertEqual(Set(comments.keys), Set(expected.keys), "every field of nst_session_params, and only those")
        for (name, comment) in comments {
            let stated: Double
            if let number = comment.firstMatch(of: /default ([-+0-9.eE]+)/) {
                stated = try XCTUnwrap(Double(number.1), "\(name): '\(number.1)'")
            } else if let code = comment.firstMatch(of: /(NST_[A-Z0-9_]+) \(default\)/) {
                let define = try XCTUnwrap(header.firstMatch(of: try Regex("#define \(code.1)\\s+(-?\\d+)")),
                                           "\(code.1) is not defined")
                stated = try XCTUnwrap(Double(define.output[1].substring ?? ""))
            } else {
                XCTFail("the header's comment on \(name) states no default: '\(comment)'")
                continue
            }
            // The header writes float defaults in decimal; compare at the field's own precision.
            let value = try XCTUnwrap(expected[name])
            XCTAssertEqual(Float(stated), Float(value), "\(name): header says \(stated), nst_session_default_params() \(value)")
        }
    }

    func testHeaderLimitsAreTheEngines() {
        XCTAssertEqual(Int(NST_MAX_IMAGE_SIDE), StyleTransferObjective.maxImageSide)
        XCTAssertEqual(Int(NST_MIN_ANCHOR_FACTOR)...Int(NST_MAX_ANCHOR_FACTOR), PreviewAnchor.factorRange)
    }
}
