import CSwiftNST
import Glibc
import NSTEngine

// Validation of raw C arguments, shared by every export: each helper either returns a safe Swift
// value or throws a BridgeError naming the argument, so no export dereferences unchecked input.
// These are the bridge's only checks: NULL pointers, element counts and their overflow, image sides
// where the engine takes raw sizes, enumeration codes and layer-name strings. What the values mean
// (finite pixels, weights, optimiser options) the engine's public entry points check, once.

/// `pointer`, or `NST_ERR_NULL_POINTER` naming `name`.
func required<T>(_ pointer: T?, _ name: String) throws -> T {
    guard let pointer else { throw BridgeError.nullPointer(name) }
    return pointer
}

/// The product of `sizes` (each >= 1) as an `Int`, or `NST_ERR_SHAPE` on a size < 1 or when the
/// product, or its size in bytes as float32, overflows. The one place the bridge multiplies sizes
/// a caller gave: a buffer of the returned count has a byte size that fits in an `Int`.
func elementCount(_ sizes: [Int64], _ what: String) throws -> Int {
    var product = MemoryLayout<Float>.stride  // counted in bytes, so the last step checks the byte size too
    for size in sizes {
        guard size >= 1, let n = Int(exactly: size) else {
            throw BridgeError.shape("\(what) sizes must be >= 1, got \(sizes)")
        }
        let (next, overflow) = product.multipliedReportingOverflow(by: n)
        guard !overflow else { throw BridgeError.shape("\(what) sizes \(sizes) overflow") }
        product = next
    }
    return product / MemoryLayout<Float>.stride
}

/// A side length in `1...NST_MAX_IMAGE_SIDE`, or `NST_ERR_SHAPE`.
func imageSide(_ value: Int64, _ name: String) throws -> Int {
    guard value >= 1, value <= Int64(NST_MAX_IMAGE_SIDE) else {
        throw BridgeError.shape("\(name) must be 1...\(NST_MAX_IMAGE_SIDE), got \(value)")
    }
    return Int(value)
}

/// Checks that a caller's element count equals the expected one (`NST_ERR_SHAPE` otherwise).
func checkCount(_ count: Int64, _ expected: Int, _ name: String) throws {
    guard count == Int64(expected) else {
        throw BridgeError.shape("\(name) must hold \(expected) values, got \(count)")
    }
}

/// A non-NULL float buffer of `count` elements.
func floats(_ pointer: UnsafePointer<Float>?, count: Int, _ name: String) throws -> UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(start: try required(pointer, name), count: count)
}

/// A non-NULL writable float buffer of `count` elements.
func mutableFloats(_ pointer: UnsafeMutablePointer<Float>?, count: Int, _ name: String) throws -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: try required(pointer, name), count: count)
}

/// A layer name read with at most `NST_MAX_LAYER_NAME` bytes, so an unterminated pointer is never
/// scanned past that bound.
func layerName(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    let text = try required(pointer, name)
    let length = strnlen(text, Int(NST_MAX_LAYER_NAME))
    guard length < Int(NST_MAX_LAYER_NAME) else {
        throw BridgeError.invalidArgument("\(name) is longer than \(NST_MAX_LAYER_NAME - 1) bytes")
    }
    let bytes = UnsafeRawBufferPointer(start: text, count: length)
    guard let decoded = String(validating: bytes, as: UTF8.self) else {
        throw BridgeError.invalidArgument("\(name) is not valid UTF-8")
    }
    return decoded
}

/// `n` layer names from a C array, with `n` in `minimum...maximum`.
func layerNames(_ names: UnsafePointer<UnsafePointer<CChar>?>?, count n: Int32, minimum: Int32,
                maximum: Int, _ what: String) throws -> [String] {
    guard n >= minimum, Int(n) <= maximum else {
        throw BridgeError.invalidArgument("number of \(what) must be \(minimum)...\(maximum), got \(n)")
    }
    guard n > 0 else { return [] }
    let array = try required(names, what)
    return try (0..<Int(n)).map { try layerName(array[$0], "\(what)[\($0)]") }
}

/// An engine enumeration the C ABI passes as an `NST_*` code: `cCode`, an exhaustive switch in each
/// conformance, is the one mapping between the two, which `init(cCode:_:)` inverts.
protocol CCoded: CaseIterable {
    var cCode: Int32 { get }
}

extension CCoded {
    /// The case whose code is `value`, or `invalidArgument` with `requirement` and the value.
    init(cCode value: Int32, _ requirement: String) throws {
        guard let found = Self.allCases.first(where: { $0.cCode == value }) else {
            throw BridgeError.invalidArgument("\(requirement), got \(value)")
        }
        self = found
    }
}

extension Pooling: CCoded {
    var cCode: Int32 { switch self { case .max: NST_POOLING_MAX; case .average: NST_POOLING_AVG } }
}

/// Maps `NST_POOLING_*` (the pooling arguments of the model and layer exports).
func pooling(_ value: Int32) throws -> Pooling {
    try Pooling(cCode: value, "pooling must be NST_POOLING_MAX or NST_POOLING_AVG")
}
