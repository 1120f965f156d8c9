/// How L-BFGS stores its correction pairs (`LBFGS.storage`, `NST_LBFGS_STORAGE_*`).
public enum LBFGSStorage: Int, CaseIterable, Sendable {
    /// Float32, the values as computed: torch `optim.lbfgs`'s trajectory.
    case float32 = 0
    /// bfloat16 (Float32's exponent, 8 significant bits, rounded to nearest even): half the memory per
    /// pair. The pairs' products are then those of the rounded vectors, so H stays positive definite;
    /// the effect on a render is measured in bench/RESULTS.md ("L-BFGS pairs in bfloat16").
    case bfloat16 = 1

    /// Bytes per stored value.
    public var bytesPerValue: Int {
        switch self {
        case .float32: 4
        case .bfloat16: 2
        }
    }
}

/// A floating-point value as the optimiser stores it: rounded from a Float on the way in, widened to
/// a Float on the way out, and written to a session state as its little-endian bit pattern.
protocol StoredFloat {
    associatedtype BitPattern: FixedWidthInteger & UnsignedInteger
    init(rounding value: Float)
    init(bitPattern: BitPattern)
    var bitPattern: BitPattern { get }
    var float: Float { get }
    /// `count` values from `source` as Floats: `source` itself for Float, else the values widened into
    /// `scratch` (room for `count`).
    static func floats(_ source: UnsafePointer<Self>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
    /// `count` values from `source` rounded to `Self` and widened back: `source` itself for Float, else
    /// written into `scratch`.
    static func rounded(_ source: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
    /// Stores `count` values from `source`, rounded, at `destination`.
    static func store(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Self>, count: Int)
}

extension Float: StoredFloat {
    init(rounding value: Float) { self = value }
    var float: Float { self }
    static func floats(_ source: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        source
    }
    static func rounded(_ source: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        source
    }
    static func store(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        destination.update(from: source, count: count)
    }
}

/// The upper half of a Float's bits: same range, 8 significant bits.
struct BFloat16: StoredFloat {
    let bitPattern: UInt16

    init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounded to nearest, ties to even (finite values that round past the largest become infinity).
    init(rounding value: Float) {
        let bits = value.bitPattern
        bitPattern = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    static func floats(_ source: UnsafePointer<BFloat16>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        for j in 0..<count { scratch[j] = source[j].float }
        return UnsafePointer(scratch)
    }

    static func rounded(_ source: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        for j in 0..<count { scratch[j] = BFloat16(rounding: source[j]).float }
        return UnsafePointer(scratch)
    }

    static func store(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<BFloat16>, count: Int) {
        for j in 0..<count { destination[j] = BFloat16(rounding: source[j]) }
    }
}
