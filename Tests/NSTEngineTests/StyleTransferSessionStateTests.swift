import XCTest
@testable import NSTEngine

/// `exportState` / `importState`: a run continued from an exported state is bitwise the run that never
/// stopped, and a damaged state is refused without changing the session.
extension StyleTransferSessionTests {
    private func configure(_ optimizer: StyleTransferSession.Configuration.Optimizer,
                           storage: LBFGSStorage = .float32,
                           lineSearch: StyleTransferSession.Configuration.LineSearch = .none)
        -> (inout StyleTransferSession.Configuration) -> Void {
        { $0.optimizer = optimizer; $0.lbfgsHistory = 3; $0.lbfgsStorage = storage; $0.lbfgsLineSearch = lineSearch; $0.threadCount = 2 }
    }

    /// Steps `before`, exports, continues `after` steps in the original and in a fresh session that
    /// imported the state: both must agree bit for bit.
    private func assertResumeIsExact(_ optimizer: StyleTransferSession.Configuration.Optimizer, storage: LBFGSStorage = .float32,
                                     lineSearch: StyleTransferSession.Configuration.LineSearch = .none,
                                     before: Int, after: Int) throws {
        let original = try makeSession(configure(optimizer, storage: storage, lineSearch: lineSearch))
        try original.step(count: before)
        let state = original.exportState()
        XCTAssertEqual(state.count, original.stateByteCount)
        let resumed = try makeSession(configure(optimizer, storage: storage, lineSearch: lineSearch))
        try state.withUnsafeBytes { try resumed.importState($0) }
        XCTAssertTrue(resumed.exportState() == state, "an imported state exports the same bytes")
        let expected = try XCTUnwrap(original.step(count: after))
        let got = try XCTUnwrap(resumed.step(count: after))
        XCTAssertEqual(got, expected)
        XCTAssertTrue(resumed.image.map(\.bitPattern) == original.image.map(\.bitPattern), "image")
        XCTAssertTrue(resumed.bestImage.map(\.bitPattern) == original.bestImage.map(\.bitPattern), "best image")
        XCTAssertEqual(resumed.bestProgress, original.bestProgress)
        XCTAssertTrue(resumed.exportState() == original.exportState(), "the states after the same steps")
    }

    func testLBFGSResumeIsBitwiseExact() throws {
        // Pairs are first kept at step 10 here (earlier moves fail the curvature test): 12 steps hold the
        // full history of 3 pairs, and the 4 after the import roll it over.
        try assertResumeIsExact(.lbfgs, before: 12, after: 4)
        try assertResumeIsExact(.lbfgs, before: 0, after: 2)   // before any step: no best, no history
        try assertResumeIsExact(.lbfgs, before: 1, after: 2)   // previous gradient, no pair yet
        try assertResumeIsExact(.lbfgs, storage: .bfloat16, before: 12, after: 4)
    }

    /// With the line search the state also holds the loss at the image (the next step starts from it).
    func testLBFGSWithLineSearchResumeIsBitwiseExact() throws {
        try assertResumeIsExact(.lbfgs, lineSearch: .armijo, before: 12, after: 4)
        try assertResumeIsExact(.lbfgs, lineSearch: .armijo, before: 0, after: 2)
        try assertResumeIsExact(.lbfgs, lineSearch: .armijo, before: 1, after: 2)
        try assertResumeIsExact(.lbfgs, storage: .bfloat16, lineSearch: .armijo, before: 12, after: 4)
        // A state with the line search is refused by a session without it, and the other way round.
        let searching = try makeSession(configure(.lbfgs, lineSearch: .armijo))
        try searching.step(count: 2)
        let plain = try makeSession(configure(.lbfgs))
        XCTAssertThrowsError(try searching.exportState().withUnsafeBytes { try plain.importState($0) })
        try plain.step(count: 2)
        XCTAssertThrowsError(try plain.exportState().withUnsafeBytes { try searching.importState($0) })
    }

    func testAdamResumeIsBitwiseExact() throws {
        try assertResumeIsExact(.adam, before: 3, after: 3)
        try assertResumeIsExact(.adam, before: 0, after: 1)
    }

    /// `importState` must throw `expected` (checked by status) and leave `session` as it was.
    private func assertRefused(_ bytes: [UInt8], by session: StyleTransferSession, _ expected: (NSTError) -> Bool,
                               _ why: String, file: StaticString = #filePath, line: UInt = #line) {
        let before = session.exportState()
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try session.importState($0) }, why, file: file, line: line) {
            XCTAssertTrue(($0 as? NSTError).map(expected) ?? false, "\(why): \($0)", file: file, line: line)
        }
        XCTAssertTrue(session.exportState() == before, "\(why): the session must be unchanged", file: file, line: line)
    }

    func testDamagedStatesAreRefused() throws {
        let source = try makeSession(configure(.lbfgs))
        try source.step(count: 12)  // with L-BFGS pairs (see testLBFGSResumeIsBitwiseExact)
        let state = source.exportState()
        let target = try makeSession(configure(.lbfgs))
        try target.step(count: 1)
        let invalid: (NSTError) -> Bool = { if case .invalidArgument = $0 { true } else { false } }
        let shape: (NSTError) -> Bool = { if case .shape = $0 { true } else { false } }
        // Every truncation, from empty to one byte short (every 97th length, plus the last few).
        for length in Array(stride(from: 0, to: state.count, by: 97)) + [state.count - 4, state.count - 1] {
            assertRefused(Array(state[..<length]), by: target, invalid, "truncated to \(length) bytes")
        }
        assertRefused(state + [0], by: target, invalid, "a trailing byte")
        var patched = state
        patched[0] ^= 1
        assertRefused(patched, by: target, invalid, "wrong magic")
        // Older layouts (1: before the L-BFGS pair storage, 2: before the line-search fields, 3: before the
        // temporal loss) and a newer one.
        for version in Array(1..<StyleTransferSession.stateFormatVersion) + [StyleTransferSession.stateFormatVersion + 1] {
            patched = state
            patched[8] = UInt8(version)
            assertRefused(patched, by: target, invalid, "format version \(version)")
        }
        patched = state
        patched[12] = 1
        assertRefused(patched, by: target, invalid, "another optimiser kind")
        patched = state
        patched[16] = 17
        assertRefused(patched, by: target, shape, "another height")
        // A huge negative then a huge positive iteration counter (8 bytes at offset 32).
        patched = state
        for i in 32..<40 { patched[i] = 0xFF }
        assertRefused(patched, by: target, invalid, "negative iteration")
        // Counters at Int64.max: adding the next step to them would overflow (a trap, from the C ABI).
        let int64Max = withUnsafeBytes(of: Int64.max.littleEndian, Array.init)
        patched = state
        patched.replaceSubrange(32..<40, with: int64Max)
        assertRefused(patched, by: target, invalid, "iteration at Int64.max")
        // NaN in the image (its first float, after the fixed header: magic ... best evaluations).
        let header = 8 + 4 + 4 + 8 + 8 + 8 + 8 + 4 + 4 * 8 + 8 + 8
        patched = state
        patched.replaceSubrange(header..<header + 4, with: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian, Array.init))
        assertRefused(patched, by: target, invalid, "NaN pixel")
        // The L-BFGS pair count (after the fixed header, the images and history size, learning rate, pair
        // storage, line-search flag and iteration) set huge.
        let pairOffset = header + 2 * 4 * source.imageCount + 8 + 4 + 8 + 4 + 8
        patched = state
        patched.replaceSubrange(pairOffset..<pairOffset + 8, with: withUnsafeBytes(of: Int64.max.littleEndian, Array.init))
        assertRefused(patched, by: target, invalid, "pair count above the history")
        patched = state
        patched.replaceSubrange(pairOffset - 8..<pairOffset, with: int64Max)
        assertRefused(patched, by: target, invalid, "L-BFGS iteration at Int64.max")
        patched = state
        patched[pairOffset - 12] = 2  // the line-search flag, a UInt32 before the iteration
        assertRefused(patched, by: target, invalid, "a line-search flag that is neither 0 nor 1")
        // A session with another history size refuses the state.
        let otherHistory = try makeSession { $0.lbfgsHistory = 4 }
        assertRefused(state, by: otherHistory, invalid, "another history size")
        let otherStorage = try makeSession(configure(.lbfgs, storage: .bfloat16))
        assertRefused(state, by: otherStorage, invalid, "another pair storage")
    }

    func testExportIntoABufferOfTheWrongSizeIsRefused() throws {
        let session = try makeSession(configure(.adam))
        var buffer = [UInt8](repeating: 7, count: session.stateByteCount + 1)
        XCTAssertThrowsError(try buffer.withUnsafeMutableBytes { try session.exportState(into: $0) }) {
            guard case .shape = $0 as? NSTError else { return XCTFail("\($0)") }
        }
        XCTAssertTrue(buffer.allSatisfy { $0 == 7 }, "the buffer is untouched")
    }
}
