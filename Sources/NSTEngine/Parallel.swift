import Dispatch
import Glibc

/// Data-parallel loops for the engine's elementwise, pooling and im2col work.
///
/// The engine never nests these loops inside BLAS calls (OpenBLAS has its own threads), so the two
/// thread pools take turns rather than oversubscribing the cores.
///
/// The worker count belongs to the calling thread, not to the process: `withThreadCount` binds one for
/// the duration of a call (each `StyleTransferSession` runs its work inside its own configuration's
/// count), so sessions with different counts may run one after the other or at the same time on
/// different threads without affecting each other. Work outside any binding uses one worker per core.
public enum Parallel {
    /// Worker count of the loops started on this thread: the count bound by the innermost
    /// `withThreadCount` around the call, or one per active processor when none is bound or it is 0.
    public static var threadCount: Int {
        let bound = boundThreadCount
        return bound > 0 ? bound : onlineProcessorCount
    }

    /// The processors online, counted as `ProcessInfo.activeProcessorCount` counts them on Linux (the
    /// CPU affinity mask is not consulted: a process confined by `taskset` still sees every core).
    private static var onlineProcessorCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Runs `body` with `count` workers (0 or less: one per active processor) for every loop it starts
    /// on this thread, then restores the count bound before, so bindings nest.
    public static func withThreadCount<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        let previous = pthread_getspecific(threadCountKey)
        pthread_setspecific(threadCountKey, UnsafeRawPointer(bitPattern: max(0, count)))
        defer { pthread_setspecific(threadCountKey, previous) }
        return try body()
    }

    /// The count bound on this thread, 0 when none is (the key's value is the count as a pointer's bits).
    private static var boundThreadCount: Int { Int(bitPattern: pthread_getspecific(threadCountKey)) }

    private static let threadCountKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

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
        // The workers run with the caller's count, so a loop inside `body` is split the same way.
        let bound = boundThreadCount
        withoutActuallyEscaping(body) { body in
            // concurrentPerform wants a @Sendable closure; the kernels' bodies capture raw pointers.
            // That is sound here because concurrentPerform returns only after every iteration has
            // finished, and callers promise that different indices write disjoint memory.
            let task = UncheckedSendableBody(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                withThreadCount(bound) {
                    for i in part(worker, of: workers, splitting: count) { task.body(i) }
                }
            }
        }
    }

    /// Calls `body(i)` for every index of `costs`, each worker taking its share of `deal(costs:workers:)`
    /// in turn; for a few items of unequal cost. `body` must only write memory that no other index writes.
    public static func forEach(costs: [Double], _ body: (Int) -> Void) {
        let shares = deal(costs: costs, workers: min(threadCount, costs.count))
        forEach(shares.count) { worker in
            for i in shares[worker] { body(i) }
        }
    }

    /// The indices of `costs` dealt to `workers` (>= 1) shares, largest cost first to the least loaded
    /// share (so two large items land in different shares, where contiguous chunks would put them in
    /// one after the small ones); each share in dealing order.
    static func deal(costs: [Double], workers: Int) -> [[Int]] {
        var shares = [[Int]](repeating: [], count: max(1, workers)), loads = [Double](repeating: 0, count: max(1, workers))
        for i in costs.indices.sorted(by: { costs[$0] > costs[$1] }) {
            let least = loads.indices.min { loads[$0] < loads[$1] }!
            shares[least].append(i)
            loads[least] += costs[i]
        }
        return shares
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
}

/// Carries a loop body into `concurrentPerform`; see the comment in `Parallel.forEach`.
private struct UncheckedSendableBody: @unchecked Sendable {
    let body: (Int) -> Void
}
