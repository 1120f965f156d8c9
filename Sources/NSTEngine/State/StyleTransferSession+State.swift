/// Export and import of everything a session changes while it optimises, so a run can stop and later
/// continue with bitwise the same steps (same machine and worker count): the image, the best image and
/// its losses, the counters and the optimiser's state. Not included: the configuration, layers, targets,
/// masks, temporal target, anchor and evaluation strategy, which the importer sets up as before (a
/// checkpoint keeps the inputs).
///
/// Layout, format version 4 (1 had no L-BFGS pair storage, 2 no L-BFGS line-search fields, 3 no temporal
/// loss), every number little-endian:
/// - magic `"SWNSTST1"` (8 bytes), format version (UInt32), optimiser kind (UInt32: 0 L-BFGS, 1 Adam,
///   the `NST_OPTIMIZER_*` codes), height and width (Int64);
/// - iteration and evaluations (Int64), has-best flag (UInt32), the best image's content, style, tv and
///   temporal losses (Float64) and its iteration and evaluations (Int64; all zero without a best);
/// - the image and the best image (Float32 × 3·height·width each);
/// - the optimiser's section (`LBFGS.exportState`, `Adam.exportState`).
extension StyleTransferSession {
    static let stateMagic = Array("SWNSTST1".utf8)
    /// Incremented on every change of the layout above.
    public static let stateFormatVersion: UInt32 = 4

    private var optimizerKind: UInt32 {
        switch configuration.optimizer {
        case .lbfgs: 0
        case .adam: 1
        }
    }

    private func writeState(_ writer: inout StateWriter) {
        writer.append(magic: Self.stateMagic)
        writer.append(Self.stateFormatVersion)
        writer.append(optimizerKind)
        writer.append(configuration.height)
        writer.append(configuration.width)
        writer.append(iteration)
        writer.append(evaluations)
        writer.append(UInt32(bestProgress == nil ? 0 : 1))
        let best = bestProgress ?? Progress(losses: ObjectiveLosses(content: 0, style: 0, tv: 0), iteration: 0, evaluations: 0)
        for loss in [best.losses.content, best.losses.style, best.losses.tv, best.losses.temporal] { writer.append(loss) }
        writer.append(best.iteration)
        writer.append(best.evaluations)
        writer.append(image)
        writer.append(bestImage)
        optimizer.exportState(&writer)
    }

    /// Bytes `exportState` returns now (the state grows as L-BFGS collects pairs).
    public var stateByteCount: Int {
        var counter = StateWriter()
        writeState(&counter)
        return counter.count
    }

    /// Writes the state into `buffer`, which must hold exactly `stateByteCount` bytes.
    /// - Throws: `NSTError.shape` for another size.
    public func exportState(into buffer: UnsafeMutableRawBufferPointer) throws {
        let size = stateByteCount
        guard buffer.count == size else {
            throw NSTError.shape("session state needs a buffer of exactly \(size) bytes, got \(buffer.count)")
        }
        var writer = StateWriter(into: buffer)
        writeState(&writer)
    }

    /// The state as bytes (see the layout above).
    public func exportState() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: stateByteCount)
        bytes.withUnsafeMutableBytes { buffer in
            var writer = StateWriter(into: buffer)
            writeState(&writer)
        }
        return bytes
    }

    /// Takes over a state `exportState` produced by a session with the same configuration (size,
    /// optimiser and its parameters). Call it after setting layers and targets, which reset the optimiser.
    /// - Throws: `NSTError.invalidArgument` (not a session state, another format version or optimiser,
    ///   truncated, trailing bytes, a count out of range, NaN/Inf, a parameter that differs) or
    ///   `.shape` (another image size); the session is unchanged on error.
    public func importState(_ bytes: UnsafeRawBufferPointer) throws {
        var reader = StateReader(bytes)
        try reader.magic(Self.stateMagic)
        let version = try reader.uint32("format version")
        guard version == Self.stateFormatVersion else {
            throw NSTError.invalidArgument("session state has format version \(version); this library reads version \(Self.stateFormatVersion)")
        }
        try OptimizerChecks.expect(try reader.uint32("optimiser kind"), equals: optimizerKind, "optimiser kind (0 L-BFGS, 1 Adam)")
        let height = try reader.count("height"), width = try reader.count("width")
        guard height == configuration.height, width == configuration.width else {
            throw NSTError.shape("session state is for a \(height)x\(width) image, the session's is "
                                 + "\(configuration.height)x\(configuration.width)")
        }
        let steps = try reader.count("iteration"), evaluated = try reader.count("evaluations")
        let hasBest = try reader.flag("has-best flag")
        let losses = try reader.doubles(4, "best losses")
        let bestIteration = try reader.count("best iteration"), bestEvaluations = try reader.count("best evaluations")
        guard !hasBest || (bestIteration <= steps + 1 && bestEvaluations <= evaluated) else {
            throw NSTError.invalidArgument("session state's best image is from after its last step")
        }
        let pixels = try reader.floats(imageCount, "image")
        let bestPixels = try reader.floats(imageCount, "best image")
        // The optimiser takes the state only if everything after it is valid too: import into a copy first.
        let replacement = try Self.makeOptimizer(configuration)
        try replacement.importState(&reader, count: imageCount)
        try reader.finish()
        optimizer = replacement
        image = pixels
        bestImage = bestPixels
        bestProgress = hasBest ? Progress(losses: ObjectiveLosses(content: losses[0], style: losses[1], tv: losses[2], temporal: losses[3]),
                                          iteration: bestIteration, evaluations: bestEvaluations) : nil
        iteration = steps
        evaluations = evaluated
        lastProgress = nil
    }
}
