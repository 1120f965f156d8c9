import Glibc

/// A read-only, memory-mapped safetensors file whose header has been fully validated.
///
/// Layout: 8-byte little-endian header length `N`, `N` bytes of JSON, then the data region.
/// Only `F32` tensors are accepted (the swiftnst weights format). Every field is checked before
/// any tensor is exposed, so no file content (truncated, garbage, huge or overlapping offsets)
/// can make a later read go out of bounds. The file must not be truncated by another process
/// while it is open (as with any mmap, that would raise SIGBUS).
public final class SafeTensorsFile: @unchecked Sendable {
    /// Where one tensor lives: its shape and its byte range inside the data region.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        /// Byte offsets relative to the start of the data region (after the header).
        public let dataOffsets: Range<Int>
        /// Number of elements, the product of `shape`.
        public let count: Int
    }

    /// Largest accepted JSON header; real headers are a few kilobytes, and the reference
    /// implementation refuses above 100 MB, so anything larger means a corrupt file.
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    /// The `__metadata__` map (string to string), empty when absent.
    public let metadata: [String: String]
    /// Every tensor by name.
    public let tensors: [String: TensorInfo]

    // The mapping is immutable after init, which is why the class may be @unchecked Sendable.
    private let mapping: UnsafeRawBufferPointer
    private let dataStart: Int

    /// Maps `path` and validates its header.
    /// - Throws: `NSTError.io` when the file cannot be opened or mapped; `NSTError.weightsFormat`
    ///   (naming the file and, where relevant, the tensor) for any malformed content.
    public init(path: String) throws {
        self.path = path
        mapping = try Self.map(path)
        do {
            let parsed = try Self.parseHeader(mapping, path: path)
            metadata = parsed.metadata
            tensors = parsed.tensors
            dataStart = parsed.dataStart
        } catch {
            munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
            throw error
        }
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
    }

    /// Tensor names in sorted order.
    public var tensorNames: [String] { tensors.keys.sorted() }

    /// A copy of tensor `name` as floats (the file is little-endian; converted on big-endian hosts).
    /// - Throws: `NSTError.weightsFormat` when the tensor does not exist.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else {
            throw NSTError.weightsFormat("\(path): no tensor '\(name)'")
        }
        let source = UnsafeRawBufferPointer(rebasing: mapping[(dataStart + info.dataOffsets.lowerBound)...]
                                                .prefix(info.dataOffsets.count))
        // The data region need not be 4-byte aligned, so copy bytes rather than binding memory.
        var values = [Float](repeating: 0, count: info.count)
        values.withUnsafeMutableBytes { $0.copyMemory(from: source) }
        #if _endian(big)
        values = values.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
        #endif
        return values
    }

    // MARK: - Mapping

    private static func map(_ path: String) throws -> UnsafeRawBufferPointer {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; the
        // opened descriptor is then asked what it is, and only a regular file is mapped.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw NSTError.io("cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw NSTError.io("cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw NSTError.io("'\(path)' is \(fileKind(info.st_mode)), not a regular file")
        }
        let size = Int(info.st_size)
        guard size >= 8 else {
            throw NSTError.weightsFormat("\(path): file is \(size) bytes, too short for a safetensors header")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw NSTError.io("cannot map '\(path)': \(String(cString: strerror(errno)))")
        }
        return UnsafeRawBufferPointer(start: base, count: size)
    }

    /// What a non-regular file is, for the message refusing it.
    private static func fileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }

    // MARK: - Header

    private static func parseHeader(_ file: UnsafeRawBufferPointer, path: String) throws
        -> (metadata: [String: String], tensors: [String: TensorInfo], dataStart: Int) {
        func fail(_ message: String) -> NSTError { .weightsFormat("\(path): \(message)") }

        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(file[i]) }
        guard length >= 2, length <= UInt64(maxHeaderBytes) else {
            throw fail("header length \(length) is not in 2...\(maxHeaderBytes)")
        }
        let headerLength = Int(length)
        guard headerLength <= file.count - 8 else {
            throw fail("header length \(headerLength) exceeds the \(file.count - 8) bytes after the length field (truncated file?)")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)]))
        } catch {
            throw fail("header is not valid JSON: \(error.message) at byte \(error.offset) of the header")
        }
        guard case .object(let header) = json else { throw fail("header is not a JSON object") }

        let dataStart = 8 + headerLength
        let dataLength = file.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = try parseMetadata(value, fail: fail)
            } else {
                tensors[name] = try parseTensor(name, value, dataLength: dataLength, fail: fail)
            }
        }
        // As in the safetensors format, tensors must tile the data region exactly: overlaps would
        // alias data, and gaps or trailing bytes mean a damaged or wrongly concatenated file.
        let ordered = tensors.values.sorted { ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.dataOffsets.lowerBound < a.dataOffsets.upperBound {
            throw fail("tensors '\(a.name)' and '\(b.name)' overlap")
        }
        var covered = 0
        for tensor in ordered {
            guard tensor.dataOffsets.lowerBound == covered else {
                throw fail("bytes \(covered)..<\(tensor.dataOffsets.lowerBound) of the data region before tensor '\(tensor.name)' belong to no tensor")
            }
            covered = tensor.dataOffsets.upperBound
        }
        guard covered == dataLength else {
            throw fail("\(dataLength - covered) trailing bytes after the last tensor (data region is \(dataLength) bytes)")
        }
        return (metadata, tensors, dataStart)
    }

    private static func parseMetadata(_ value: JSONValue, fail: (String) -> NSTError) throws -> [String: String] {
        guard case .object(let entries) = value else { throw fail("__metadata__ is not a JSON object") }
        var metadata: [String: String] = [:]
        for (key, entry) in entries {
            guard case .string(let text) = entry else { throw fail("metadata '\(key)' is not a string") }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseTensor(_ name: String, _ value: JSONValue, dataLength: Int,
                                    fail: (String) -> NSTError) throws -> TensorInfo {
        func bad(_ problem: String) -> NSTError { fail("tensor '\(name)': \(problem)") }
        guard case .object(let fields) = value else { throw bad("entry is not a JSON object") }
        if let unknown = fields.keys.sorted().first(where: { !["dtype", "shape", "data_offsets"].contains($0) }) {
            throw bad("unknown field '\(unknown)'")
        }
        guard case .string(let dtype)? = fields["dtype"] else { throw bad("missing or non-string dtype") }
        guard dtype == "F32" else { throw bad("dtype \(dtype) is not supported (only F32)") }
        guard case .array(let shapeValues)? = fields["shape"] else { throw bad("missing or non-array shape") }
        guard shapeValues.count <= 8 else { throw bad("rank \(shapeValues.count) is larger than 8") }
        var shape: [Int] = []
        var count = 1
        for dimension in shapeValues {
            guard let size = nonNegativeInteger(dimension) else { throw bad("shape \(JSONValue.array(shapeValues).encoded) is not a list of non-negative integers") }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw bad("shape \(JSONValue.array(shapeValues).encoded) overflows") }
            shape.append(size)
            count = product
        }
        guard case .array(let offsets)? = fields["data_offsets"], offsets.count == 2,
              let begin = nonNegativeInteger(offsets[0]), let end = nonNegativeInteger(offsets[1]) else {
            throw bad("data_offsets must be two non-negative integers")
        }
        guard begin <= end, end <= dataLength else {
            throw bad("data_offsets [\(begin), \(end)] are outside the \(dataLength)-byte data region")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        guard !overflow, bytes == end - begin else {
            throw bad("shape \(shape) needs \(count) x 4 bytes but data_offsets span \(end - begin)")
        }
        return TensorInfo(name: name, shape: shape, dataOffsets: begin..<end, count: count)
    }

    /// The value as an `Int` when it is a JSON number holding an integer >= 0 (not a fraction or string).
    private static func nonNegativeInteger(_ value: JSONValue) -> Int? {
        guard case .number(let number) = value, number >= 0, number < 9.0e15, number == number.rounded() else {
            return nil
        }
        return Int(number)
    }
}

extension SafeTensorsFile {
    /// One F32 tensor to serialise.
    public struct Entry: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The bytes of a safetensors file holding `entries` (in order, packed) and `metadata`: the
    /// inverse of `init(path:)`, used by tests and tools that need a weights file without Python.
    /// Shapes are written as given, so callers can also build deliberately inconsistent files.
    public static func serialize(_ entries: [Entry], metadata: [String: String]) -> [UInt8] {
        var header: [String: JSONValue] = [:]
        if !metadata.isEmpty { header["__metadata__"] = .object(metadata.mapValues { .string($0) }) }
        var offset = 0
        for entry in entries {
            let size = entry.values.count * MemoryLayout<Float>.size
            header[entry.name] = .object(["dtype": .string("F32"),
                                          "shape": .array(entry.shape.map { .number(Double($0)) }),
                                          "data_offsets": .array([.number(Double(offset)), .number(Double(offset + size))])])
            offset += size
        }
        var json = Array(JSONValue.object(header).encoded.utf8)
        // The reference implementation pads the header with spaces to keep the data 8-byte aligned.
        while json.count % 8 != 0 { json.append(0x20) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count + offset)
        let length = UInt64(json.count)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        bytes += json
        for entry in entries {
            entry.values.withUnsafeBytes { raw in
                #if _endian(big)
                for value in entry.values {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                }
                #else
                bytes.append(contentsOf: raw)
                #endif
            }
        }
        return bytes
    }
}
