import Dispatch
import Foundation

/// Data-parallel loops for the engine's elementwise, pooling and im2col work.
///
/// The engine never nests these loops inside BLAS calls (OpenBLAS has its own threads), so the two
/// thread pools take turns rather than oversubscribing the cores.
public enum Parallel {
    /// Worker count used by `forEach`; `0` (the default) means one per active processor.
    /// Set from CBridge (`n_threads`); shared by the whole process.
    public static var threadCount: Int {
        get { let n = setting.value; return n > 0 ? n : ProcessInfo.processInfo.activeProcessorCount }
        set { setting.value = max(0, newValue) }
    }

    /// Calls `body(i)` for every `i` in `0..<count`, spreading contiguous chunks of indices over
    /// `threadCount` workers; runs inline when there is one worker or one index.
    /// `body` must only write memory that no other index writes.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let workers = min(threadCount, count)
        if workers <= 1 {
            for i in 0..<max(0, count) { body(i) }
            return
        }
        // Contiguous chunks (rather than one dispatch per index) keep per-index overhead negligible
        // for the small per-channel bodies of pooling and ReLU.
        withoutActuallyEscaping(body) { body in
            // concurrentPerform wants a @Sendable closure; the kernels' bodies capture raw pointers.
            // That is sound here because concurrentPerform returns only after every iteration has
            // finished, and callers promise that different indices write disjoint memory.
            let task = UncheckedSendableBody(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for i in part(worker, of: workers, splitting: count) { task.body(i) }
            }
        }
    }

    /// Splits `0..<count` into about `threadCount` ranges and calls `body` on each in parallel;
    /// for flat elementwise loops that are not naturally per channel.
    public static func forEachRange(_ count: Int, minimumChunk: Int = 16_384, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(threadCount, count / max(1, minimumChunk)))
        forEach(chunks) { chunk in
            body(part(chunk, of: chunks, splitting: count))
        }
    }

    /// Part `index` of `0..<count` cut into `parts` consecutive ranges of nearly equal size, each boundary
    /// rounded up to a multiple of `alignment` (so with alignment > 1 the last parts may be empty).
    public static func part(_ index: Int, of parts: Int, splitting count: Int, alignment: Int = 1) -> Range<Int> {
        func boundary(_ i: Int) -> Int { min(count, (count * i / parts + alignment - 1) / alignment * alignment) }
        return boundary(index)..<boundary(index + 1)
    }

    private static let setting = LockedInt()
}

/// An `Int` behind a lock, so the process-wide thread setting is safe to change from any thread.
private final class LockedInt: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// Carries a loop body into `concurrentPerform`; see the comment in `Parallel.forEach`.
private struct UncheckedSendableBody: @unchecked Sendable {
    let body: (Int) -> Void
}
