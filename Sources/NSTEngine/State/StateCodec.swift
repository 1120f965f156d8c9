/// Little-endian encoding of a session's state (`StyleTransferSession.exportState`). One writer serves
/// both the size query and the export, so the two can never disagree about the layout.
public struct StateWriter {
    /// Where bytes go; nil only counts them.
    private let destination: UnsafeMutableRawBufferPointer?
    /// Bytes written (or counted) so far.
    public private(set) var count = 0

    /// A writer that only counts.
    public init() { destination = nil }

    /// A writer into `destination`, which the caller sized with a counting writer over the same content.
    init(into destination: UnsafeMutableRawBufferPointer) { self.destination = destination }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if let destination {
            UnsafeMutableRawBufferPointer(rebasing: destination[count..<count + bytes.count]).copyMemory(from: bytes)
        }
        count += bytes.count
    }

    mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { append($0) } }
    mutating func append(_ value: Int) { withUnsafeBytes(of: Int64(value).littleEndian) { append($0) } }
    mutating func append(_ value: Float) { append(value.bitPattern) }
    mutating func append(_ value: Double) { withUnsafeBytes(of: value.bitPattern.littleEndian) { append($0) } }
    mutating func append(magic: [UInt8]) { magic.withUnsafeBytes { append($0) } }

    /// The floats' bit patterns, little-endian.
    mutating func append(_ values: [Float]) { values.withUnsafeBufferPointer { append($0) } }

    /// The values' bit patterns, little-endian.
    mutating func append<T: StoredFloat>(_ values: UnsafeBufferPointer<T>) {
        if destination == nil || UInt32(1).littleEndian == 1 {
            append(UnsafeRawBufferPointer(values))
        } else {
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { append($0) } }
        }
    }

    mutating func append(_ values: [Double]) { for value in values { append(value) } }
}

/// Bounds-checked decoding of what `StateWriter` wrote: every read checks the bytes left first, so a
/// truncated or hostile buffer gives `NSTError.invalidArgument`, never an out-of-bounds read.
public struct StateReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private mutating func take(_ n: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - offset else {
            throw NSTError.invalidArgument("session state is truncated: \(what) needs \(n) bytes at offset \(offset), "
                                           + "\(bytes.count - offset) left")
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    mutating func uint32(_ what: String) throws -> UInt32 {
        UInt32(littleEndian: try take(4, what).loadUnaligned(as: UInt32.self))
    }

    /// The largest count or counter a state may hold, 2⁵³: far above any real run's steps, and low
    /// enough that the importer's and the next steps' additions to a counter cannot overflow (a trap).
    static let maxCount = 1 << 53

    /// A signed 64-bit count or counter, refused when negative or above `maxCount`.
    mutating func count(_ what: String) throws -> Int {
        let value = Int64(littleEndian: try take(8, what).loadUnaligned(as: Int64.self))
        guard value >= 0, value <= Self.maxCount, let result = Int(exactly: value) else {
            throw NSTError.invalidArgument("session state's \(what) must be in 0...2^53, got \(value)")
        }
        return result
    }

    mutating func float(_ what: String) throws -> Float { Float(bitPattern: try uint32(what)) }

    mutating func double(_ what: String) throws -> Double {
        Double(bitPattern: UInt64(littleEndian: try take(8, what).loadUnaligned(as: UInt64.self)))
    }

    /// A 0/1 flag stored as UInt32.
    mutating func flag(_ what: String) throws -> Bool {
        let value = try uint32(what)
        guard value <= 1 else { throw NSTError.invalidArgument("session state's \(what) must be 0 or 1, got \(value)") }
        return value == 1
    }

    mutating func magic(_ expected: [UInt8]) throws {
        guard Array(try take(expected.count, "magic")) == expected else {
            throw NSTError.invalidArgument("not a swiftnst session state (wrong magic bytes)")
        }
    }

    /// `count` finite values of `width` bytes each, decoded from their little-endian bit patterns by `decode`.
    private mutating func finite<T: BinaryFloatingPoint>(_ count: Int, width: Int, _ what: String,
                                                         _ decode: (UnsafeRawBufferPointer, Int) -> T) throws -> [T] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow else { throw NSTError.invalidArgument("session state's \(what) is too large") }
        let raw = try take(byteCount, what)
        let values = (0..<count).map { decode(raw, width * $0) }
        guard values.allSatisfy(\.isFinite) else { throw NSTError.invalidArgument("session state's \(what) holds NaN or infinity") }
        return values
    }

    /// `count` finite floats.
    mutating func floats(_ count: Int, _ what: String) throws -> [Float] {
        try finite(count, width: 4, what) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self))) }
    }

    /// Fills `destination` with finite values from their little-endian bit patterns.
    mutating func read<T: StoredFloat>(into destination: UnsafeMutableBufferPointer<T>, _ what: String) throws {
        let width = MemoryLayout<T.BitPattern>.size
        let (byteCount, overflow) = destination.count.multipliedReportingOverflow(by: width)
        guard !overflow else { throw NSTError.invalidArgument("session state's \(what) is too large") }
        let raw = try take(byteCount, what)
        for i in destination.indices {
            let value = T(bitPattern: T.BitPattern(littleEndian: raw.loadUnaligned(fromByteOffset: width * i, as: T.BitPattern.self)))
            guard value.float.isFinite else { throw NSTError.invalidArgument("session state's \(what) holds NaN or infinity") }
            destination[i] = value
        }
    }

    /// `count` finite doubles.
    mutating func doubles(_ count: Int, _ what: String) throws -> [Double] {
        try finite(count, width: 8, what) { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt64.self))) }
    }

    /// Refuses bytes after the end of the state (a wrong or concatenated buffer).
    func finish() throws {
        guard offset == bytes.count else {
            throw NSTError.invalidArgument("session state has \(bytes.count - offset) unexpected bytes after its end")
        }
    }
}
