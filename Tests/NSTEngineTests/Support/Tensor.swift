@testable import NSTEngine

/// A dense float32 tensor in channel-major (CHW) layout: element `(c, y, x)` is at
/// `storage[(c * height + y) * width + x]`.
///
/// The tests' shape-carrying view of an image, activation or gradient (the engine itself works on raw
/// buffers with their sizes passed alongside).
struct Tensor: Sendable, Equatable {
    var channels: Int
    var height: Int
    var width: Int
    var storage: [Float]

    /// Number of elements, `channels * height * width`.
    var count: Int { channels * height * width }

    /// A tensor of zeros. Negative sizes are clamped to zero so the initialiser cannot trap.
    init(zeros channels: Int, _ height: Int, _ width: Int) {
        self.channels = max(0, channels)
        self.height = max(0, height)
        self.width = max(0, width)
        self.storage = [Float](repeating: 0, count: self.channels * self.height * self.width)
    }

    /// Wraps `storage` as a `[channels, height, width]` tensor.
    /// - Throws: `NSTError.shape` if a size is negative or `storage.count` differs from the product.
    init(channels: Int, height: Int, width: Int, storage: [Float]) throws {
        guard channels >= 0, height >= 0, width >= 0 else {
            throw NSTError.shape("negative tensor size [\(channels), \(height), \(width)]")
        }
        let (product, overflow) = channels.multipliedReportingOverflow(by: height)
        let (total, overflow2) = product.multipliedReportingOverflow(by: width)
        guard !overflow, !overflow2, total == storage.count else {
            throw NSTError.shape("tensor [\(channels), \(height), \(width)] needs \(product * width) values, got \(storage.count)")
        }
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = storage
    }

    /// True when every element is finite (no NaN or infinity).
    var isFinite: Bool { storage.allSatisfy { $0.isFinite } }
}
