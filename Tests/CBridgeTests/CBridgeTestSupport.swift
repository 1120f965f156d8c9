import CBridge
import CSwiftNST
import Foundation
import NSTEngine
import XCTest

/// A VGG-16 weights file with small He-scaled pseudo-random values, written once per test process
/// (about 59 MB in the temporary directory, removed at exit).
enum TestWeightsFile {
    static let path: String = {
        var state: UInt64 = 12345
        func uniform() -> Float {  // SplitMix-style LCG step; uniform in [-1, 1)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        let entries = VGGArchitecture.vgg16.convolutions.flatMap { conv -> [SafeTensorsFile.Entry] in
            let bound = (6 / Float(conv.inChannels * 9)).squareRoot()
            return [
                .init(name: "\(conv.name).weight", shape: [conv.outChannels, conv.inChannels, 3, 3],
                      values: (0..<(conv.outChannels * conv.inChannels * 9)).map { _ in bound * uniform() }),
                .init(name: "\(conv.name).bias", shape: [conv.outChannels],
                      values: (0..<conv.outChannels).map { _ in 0.1 * uniform() }),
            ]
        }
        let metadata = ["swiftnst.format": "1", "architecture": "vgg16", "channel_order": "RGB", "input_scale": "1",
                        "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225", "source": "CBridgeTests"]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftnst-cbridge-\(getpid()).safetensors")
        // A test bundle cannot report errors from a static initialiser; a failed write shows up
        // as NST_ERR_IO in the first test that loads the file.
        try? Data(SafeTensorsFile.serialize(entries, metadata: metadata)).write(to: url)
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory
            .appendingPathComponent("swiftnst-cbridge-\(getpid()).safetensors").path) }
        return url.path
    }()
}

/// The message of the last failure on this thread.
func lastError() -> String { String(cString: CBridge.nst_last_error()) }

/// Asserts `status` and that the last error mentions every fragment.
func assertStatus(_ status: nst_status, _ expected: Int32, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(String(cString: CBridge.nst_status_name(status)), String(cString: CBridge.nst_status_name(expected)),
                   "message: \(lastError())", file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(lastError().contains(fragment), "'\(lastError())' lacks '\(fragment)'", file: file, line: line)
    }
}

/// Calls `body` with C string pointers for `names`, valid for the duration of the call.
func withCStrings<R>(_ names: [String], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
    let copies = names.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return try body(copies.map { UnsafePointer($0) })
}

/// Loads the test model or fails the test.
func loadTestModel(file: StaticString = #filePath, line: UInt = #line) throws -> OpaquePointer {
    var model: OpaquePointer?
    let status = CBridge.nst_model_load_from_file(TestWeightsFile.path, &model)
    XCTAssertEqual(status, NST_OK, lastError(), file: file, line: line)
    return try XCTUnwrap(model, file: file, line: line)
}
