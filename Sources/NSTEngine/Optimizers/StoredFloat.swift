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
}

extension Float: StoredFloat {
    init(rounding value: Float) { self = value }
    var float: Float { self }
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
}
