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

    func testThreadCountBindingsNestAndRestore() throws {
        let perCore = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertEqual(Parallel.threadCount, perCore, "no binding: one worker per core")
        try Parallel.withThreadCount(3) {
            XCTAssertEqual(Parallel.threadCount, 3)
            Parallel.withThreadCount(1) { XCTAssertEqual(Parallel.threadCount, 1) }
            XCTAssertEqual(Parallel.threadCount, 3, "the inner binding is undone")
            Parallel.withThreadCount(0) { XCTAssertEqual(Parallel.threadCount, perCore, "0 means one per core") }
            XCTAssertThrowsError(try Parallel.withThreadCount(5) { throw NSTError.cancelled })
            XCTAssertEqual(Parallel.threadCount, 3, "restored after a throw too")
        }
        XCTAssertEqual(Parallel.threadCount, perCore)
    }

    /// The count is the calling thread's: another thread's binding does not change it, and the workers
    /// of a loop see the count of the thread that started the loop.
    func testThreadCountIsPerThreadAndReachesTheWorkers() {
        let perCore = ProcessInfo.processInfo.activeProcessorCount
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let other = Thread {
            Parallel.withThreadCount(7) {
                inside.signal()
                release.wait()
            }
        }
        other.start()
        inside.wait()
        XCTAssertEqual(Parallel.threadCount, perCore, "another thread's binding is not this thread's")
        release.signal()

        var seen = [Int](repeating: 0, count: 6)
        seen.withUnsafeMutableBufferPointer { seen in
            let base = seen.baseAddress!
            Parallel.withThreadCount(3) {
                Parallel.forEach(6) { base[$0] = Parallel.threadCount }
            }
        }
        XCTAssertEqual(seen, [Int](repeating: 3, count: 6))
    }

    /// The w2 layers' costs (C³ for 64...512 channels) over two workers: the two 512s apart, every index
    /// once; and `forEach(costs:)` visits each index exactly once.
    func testCostsAreDealtLargestFirstToTheLeastLoaded() {
        let costs = [64.0, 128, 256, 512, 512].map { $0 * $0 * $0 }
        XCTAssertEqual(Parallel.deal(costs: costs, workers: 2), [[3, 2], [4, 1, 0]])
        XCTAssertEqual(Parallel.deal(costs: costs, workers: 1), [[3, 4, 2, 1, 0]])
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: costs.count)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        Parallel.withThreadCount(2) { Parallel.forEach(costs: costs) { counts[$0] += 1 } }
        XCTAssertEqual(Array(counts), [1, 1, 1, 1, 1])
    }
}
