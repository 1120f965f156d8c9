import Foundation
import XCTest
@testable import NSTEngine

/// Writes `bytes` to a fresh temporary file and returns its path (removed at the end of the test).
func writeTemporaryFile(_ bytes: [UInt8], _ test: XCTestCase, name: String = "weights.safetensors") throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftnst-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

/// A file made of an 8-byte length field followed by `header` as the JSON text and `data`.
func rawSafeTensors(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    let length = declaredLength ?? UInt64(json.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + json + data
}

/// Asserts that `body` throws the given NSTError kind and that the message names every fragment.
func assertThrowsNST(_ kind: (String) -> NSTError, containing fragments: [String], file: StaticString = #filePath,
                     line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let error as NSTError {
        XCTAssertEqual(error, kind(error.message), "wrong kind: \(error)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

final class SafeTensorsFileTests: XCTestCase {
    func testRoundTripOfValidFile() throws {
        let a = SafeTensorsFile.Entry(name: "a", shape: [2, 3], values: [1, -2, 3.5, 0, .leastNonzeroMagnitude, 6])
        let b = SafeTensorsFile.Entry(name: "b", shape: [], values: [42])
        let bytes = SafeTensorsFile.serialize([a, b], metadata: ["k": "v"])
        let file = try SafeTensorsFile(path: writeTemporaryFile(bytes, self))
        XCTAssertEqual(file.metadata, ["k": "v"])
        XCTAssertEqual(file.tensorNames, ["a", "b"])
        XCTAssertEqual(file.tensors["a"]?.shape, [2, 3])
        XCTAssertEqual(try file.floats("a"), a.values)
        XCTAssertEqual(try file.floats("b"), [42])
        assertThrowsNST(NSTError.weightsFormat, containing: ["no tensor 'c'"]) { _ = try file.floats("c") }
    }

    func testUnalignedDataIsReadCorrectly() throws {
        // Header of odd length: the data region starts at an address that is not 4-byte aligned.
        let header = #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} "#
        var data: [UInt8] = []
        for value: Float in [1.5, -7] { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
        let file = try SafeTensorsFile(path: writeTemporaryFile(rawSafeTensors(header: header, data: data), self))
        XCTAssertEqual(try file.floats("t"), [1.5, -7])
    }

    func testMissingFileIsIOError() {
        assertThrowsNST(NSTError.io, containing: ["/nonexistent/x.safetensors"]) {
            _ = try SafeTensorsFile(path: "/nonexistent/x.safetensors")
        }
        assertThrowsNST(NSTError.io, containing: ["is a directory, not a regular file"]) { _ = try SafeTensorsFile(path: "/tmp") }
    }

    /// A FIFO would block a plain open() until a writer appears, and /dev/zero never ends: both are
    /// refused up front (the load runs on another thread so that a regression fails, not hangs).
    func testFIFOAndDevicesAreRefusedWithoutBlocking() throws {
        let fifo = try writeTemporaryFile([], self, name: "pipe.safetensors")
        try FileManager.default.removeItem(atPath: fifo)
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, kind) in [(fifo, "a FIFO (named pipe)"), ("/dev/zero", "a character device")] {
            let finished = expectation(description: "loading \(path) returned")
            DispatchQueue.global().async {
                assertThrowsNST(NSTError.io, containing: ["'\(path)' is \(kind), not a regular file"]) {
                    _ = try SafeTensorsFile(path: path)
                }
                finished.fulfill()
            }
            wait(for: [finished], timeout: 10)
        }
    }

    func testMalformedFilesAreRejectedWithNamedProblems() throws {
        let good = #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(String, [UInt8], [String])] = [
            ("empty", [], ["too short"]),
            ("short length field", [1, 2, 3], ["too short"]),
            ("huge header length", rawSafeTensors(header: good, data: eight, declaredLength: UInt64.max), ["header length"]),
            ("header past end", rawSafeTensors(header: good, data: eight, declaredLength: 4096), ["truncated"]),
            ("bad JSON", rawSafeTensors(header: "{\"t\": [", data: eight), ["not valid JSON"]),
            ("not an object", rawSafeTensors(header: "[1, 2]", data: eight), ["not a JSON object"]),
            ("wrong dtype", rawSafeTensors(header: #"{"t":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#, data: eight),
             ["tensor 't'", "F16"]),
            ("truncated data", rawSafeTensors(header: good, data: [0, 0, 0, 0]), ["tensor 't'", "outside"]),
            ("offsets reversed", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight),
             ["tensor 't'", "outside"]),
            ("negative offset", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, data: eight),
             ["tensor 't'", "data_offsets"]),
            ("overflowing offset", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999999]}}"#, data: eight),
             ["tensor 't'", "data_offsets"]),
            ("shape vs offsets", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight),
             ["tensor 't'", "shape [3]"]),
            ("overflowing shape", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: eight),
             ["tensor 't'", "overflows"]),
            ("fractional shape", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}"#, data: eight),
             ["tensor 't'", "shape"]),
            ("string shape", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#, data: eight),
             ["tensor 't'", "shape"]),
            ("unknown field", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#, data: eight),
             ["tensor 't'", "unknown field 'x'"]),
            ("overlap", rawSafeTensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight),
             ["'a'", "'b'", "overlap"]),
            ("trailing bytes", rawSafeTensors(header: good, data: eight + [0, 0, 0, 0]), ["4 trailing bytes"]),
            ("gap", rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight),
             ["bytes 0..<4", "'t'"]),
            ("metadata not strings", rawSafeTensors(header: #"{"__metadata__":{"architecture":19}}"#, data: []),
             ["metadata 'architecture'"]),
        ]
        for (label, bytes, fragments) in cases {
            let path = try writeTemporaryFile(bytes, self, name: "\(label.replacingOccurrences(of: " ", with: "_")).safetensors")
            assertThrowsNST(NSTError.weightsFormat, containing: [path] + fragments) { _ = try SafeTensorsFile(path: path) }
        }
    }

    func testRandomGarbageNeverTraps() throws {
        var generator = SeededGenerator(seed: 9)
        let valid = SafeTensorsFile.serialize([.init(name: "w", shape: [4], values: [1, 2, 3, 4])], metadata: ["a": "b"])
        for trial in 0..<200 {
            var bytes = valid
            // Flip a few bytes anywhere (length field, JSON, data) or cut the file short.
            for _ in 0..<3 { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            if trial % 4 == 0 { bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count)))) }
            let path = try writeTemporaryFile(bytes, self)
            do {
                let file = try SafeTensorsFile(path: path)
                for name in file.tensorNames { _ = try file.floats(name) }
            } catch let error as NSTError {
                XCTAssertEqual(error, .weightsFormat(error.message))
            }
        }
    }
}
