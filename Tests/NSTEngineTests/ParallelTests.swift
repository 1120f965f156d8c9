import XCTest
@testable import NSTEngine

final class ParallelTests: XCTestCase {
    func testEveryIndexRunsExactlyOnce() {
        for count in [0, 1, 2, 3, 17, 1000] {
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                let base = h.baseAddress
                Parallel.forEach(count) { base![$0] += 1 }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: count), "count \(count)")
        }
    }

    func testRangesCoverWithoutOverlap() {
        var hits = [Int](repeating: 0, count: 50_001)
        hits.withUnsafeMutableBufferPointer { h in
            let base = h.baseAddress!
            Parallel.forEachRange(50_001, minimumChunk: 1000) { range in for i in range { base[i] += 1 } }
        }
        XCTAssertEqual(Set(hits), [1])
    }

    func testThreadCountSetting() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = 0 }
        Parallel.threadCount = 1
        XCTAssertEqual(Parallel.threadCount, 1)
        Parallel.threadCount = 0
        XCTAssertEqual(Parallel.threadCount, saved)
    }
}
