import XCTest
@testable import NSTEngine

final class StyleTransferSessionTests: XCTestCase {
    static let network = try! FeatureNetwork(architecture: .vgg16, weights: SharedWeights.vgg16)
    let size = 16

    /// A session on a 16x16 image with shallow layers (cheap in debug builds), its targets set from
    /// two different random images and its image set to a third.
    func makeSession(_ edit: (inout StyleTransferSession.Configuration) -> Void = { $0.lbfgsHistory = 10 }) throws -> StyleTransferSession {
        var configuration = StyleTransferSession.Configuration()
        configuration.height = size
        configuration.width = size
        edit(&configuration)
        let session = try StyleTransferSession(network: Self.network, configuration: configuration)
        try session.setContentLayers([("relu2_2", 1)])
        try session.setStyleLayers([("relu1_1", 1), ("relu2_1", 1)])
        let count = session.imageCount
        try randomFloats(count, in: -50...50, seed: 1).withUnsafeBufferPointer { try session.setContent(image: $0) }
        try randomFloats(3 * 24 * 20, in: -50...50, seed: 2).withUnsafeBufferPointer {
            try session.addStyle(image: $0, height: 24, width: 20, weight: 1)
        }
        try randomFloats(count, in: -10...10, seed: 3).withUnsafeBufferPointer { try session.setImage($0) }
        return session
    }

    func testLossFallsAndBestImageIsTheLowestEvaluated() throws {
        let session = try makeSession()
        var seen: [StyleTransferSession.Progress] = []
        let last = try session.step(count: 20) { seen.append($0); return true }
        XCTAssertEqual(seen.count, 20)
        XCTAssertEqual(last, seen.last)
        XCTAssertEqual(seen.map(\.iteration), Array(1...20))
        XCTAssertEqual(session.evaluations, 20)
        // Without a line search the loss may spike on some steps (as in neural-style), so judge the best.
        let best = try XCTUnwrap(session.bestProgress)
        XCTAssertLessThan(best.losses.total, 0.5 * seen[0].losses.total, "loss should fall substantially")
        XCTAssertEqual(best.losses.total, seen.map(\.losses.total).min())
        // The best image really has the best loss.
        let reevaluated = try session.bestImage.withUnsafeBufferPointer { try session.evaluate(image: $0, gradient: nil) }
        XCTAssertEqual(reevaluated.total, best.losses.total, accuracy: 1e-4 * best.losses.total)
    }

    func testCancelKeepsProgressAndBestImage() throws {
        let session = try makeSession()
        var calls = 0
        XCTAssertThrowsError(try session.step(count: 10) { _ in calls += 1; return calls < 3 }) {
            XCTAssertEqual($0 as? NSTError, .cancelled)
        }
        XCTAssertEqual(calls, 3)
        XCTAssertEqual(session.iteration, 3)
        XCTAssertEqual(session.lastProgress?.iteration, 3)
        XCTAssertNotNil(session.bestProgress)
        XCTAssertTrue(session.image.allSatisfy(\.isFinite))
        // Stepping again continues from where the cancel left off.
        try session.step(count: 1)
        XCTAssertEqual(session.iteration, 4)
    }

    func testNonFiniteObjectiveKeepsLastFiniteImage() throws {
        // A learning rate near Float.max sends the image towards overflow within a few steps.
        let session = try makeSession { $0.optimizer = .adam; $0.learningRate = 3e38 }
        XCTAssertThrowsError(try session.step(count: 10)) { XCTAssertEqual(($0 as? NSTError)?.status, "numeric") }
        XCTAssertTrue(session.image.allSatisfy(\.isFinite))
        XCTAssertTrue(session.bestImage.allSatisfy(\.isFinite))
        XCTAssertLessThan(session.iteration, 10)
    }

    func testMissingTargetsAndBadInputs() throws {
        var configuration = StyleTransferSession.Configuration()
        configuration.height = size
        configuration.width = size
        let session = try StyleTransferSession(network: Self.network, configuration: configuration)
        XCTAssertEqual(session.image, [Float](repeating: 0, count: session.imageCount))
        XCTAssertThrowsError(try session.step(count: 1)) { XCTAssertEqual(($0 as? NSTError)?.status, "state") }
        XCTAssertThrowsError(try session.step(count: -1)) { XCTAssertEqual(($0 as? NSTError)?.status, "invalidArgument") }
        XCTAssertThrowsError(try session.setContentLayers([("relu9_9", 1)])) { XCTAssertEqual($0 as? NSTError, .unknownLayer("relu9_9")) }
        XCTAssertThrowsError(try [Float](repeating: 0, count: 5).withUnsafeBufferPointer { try session.setImage($0) }) {
            XCTAssertEqual(($0 as? NSTError)?.status, "shape")
        }
        var nan = [Float](repeating: 0, count: session.imageCount)
        nan[7] = .nan
        XCTAssertThrowsError(try nan.withUnsafeBufferPointer { try session.setImage($0) }) {
            XCTAssertEqual(($0 as? NSTError)?.status, "numeric")
        }
        configuration.height = 8  // too small to reach relu5_1 of the default style layers
        XCTAssertThrowsError(try StyleTransferSession(network: Self.network, configuration: configuration))
    }

    func testReplacingContentLayersKeepsStyleImages() throws {
        let session = try makeSession()
        try session.setContentLayers([])  // no content term: the style image alone drives the objective
        try session.step(count: 2)
        XCTAssertEqual(session.iteration, 2)
        try session.setStyleLayers([("relu1_2", 1)])  // clears style images
        XCTAssertThrowsError(try session.step(count: 1)) { XCTAssertEqual(($0 as? NSTError)?.status, "state") }
    }
}

private extension NSTError {
    /// The case name, for asserting the kind without matching the message.
    var status: String { String(describing: self).split(separator: "(").first.map(String.init) ?? "" }
}
