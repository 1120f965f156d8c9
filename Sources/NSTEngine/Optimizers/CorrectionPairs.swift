/// The L-BFGS curvature pairs `s`, `y` (at most `capacity`, oldest dropped first) with `1/(y·s)` and
/// the initial scaling `H₀ = (y·s)/(y·y)` of the newest, stored as `Element`.
///
/// Each pair lives in a slot of `MappedMemory` allocated once and then reused in a ring: a long run
/// does not cycle image-sized arrays through malloc (which can keep freed ones resident, see
/// `MappedMemory`), and clearing returns the memory at once.
final class CorrectionPairs<Element: StoredFloat> {
    let capacity: Int
    /// Values per vector.
    let count: Int
    /// Slot k holds s (`count` values) then y.
    private var slots: [MappedMemory] = []
    /// The slot of the oldest pair (0 until the ring is full).
    private var oldest = 0
    /// 1 / (y·s) per slot.
    private var inverseCurvatures: [Double] = []
    private(set) var hDiagonal = 1.0

    init(capacity: Int, count: Int) {
        (self.capacity, self.count) = (capacity, count)
    }

    /// Pairs held.
    var held: Int { slots.count }

    func clear() {
        slots = []
        inverseCurvatures = []
        (oldest, hDiagonal) = (0, 1)
    }

    private func vectors(_ slot: Int) -> (s: UnsafeMutablePointer<Element>, y: UnsafeMutablePointer<Element>) {
        let s = slots[slot].pointer.bindMemory(to: Element.self, capacity: 2 * count)
        return (s, s + count)
    }

    /// The slot of pair `i`, 0 the oldest.
    private func slot(_ i: Int) -> Int { (oldest + i) % slots.count }

    /// Stores `s = step`, `y = gradient − previousGradient` (as `Element`) if the rounded pair satisfies the
    /// curvature condition `y·s > threshold`, dropping the oldest pair when full.
    /// - Returns: whether the pair was stored.
    @discardableResult
    func offer(step: [Float], gradient: [Float], previousGradient: [Float], threshold: Double) -> Bool {
        // One pass for the products, sequential like `OptimizerChecks.dot` (same sums with Float32), a
        // second to store: the oldest pair's slot may only be overwritten once the new pair is accepted.
        var (ys, yy) = (0.0, 0.0)
        for j in 0..<count {
            let y = Double(Element(rounding: gradient[j] - previousGradient[j]).float)
            ys += y * Double(Element(rounding: step[j]).float)
            yy += y * y
        }
        guard ys > threshold, ys.isFinite, yy.isFinite else { return false }
        let target: Int
        if slots.count < capacity {
            slots.append(MappedMemory(byteCount: 2 * count * MemoryLayout<Element>.stride))
            inverseCurvatures.append(0)
            target = slots.count - 1
        } else {
            target = oldest
            oldest = (oldest + 1) % capacity
        }
        let (s, y) = vectors(target)
        for j in 0..<count {
            s[j] = Element(rounding: step[j])
            y[j] = Element(rounding: gradient[j] - previousGradient[j])
        }
        inverseCurvatures[target] = 1 / ys
        hDiagonal = ys / yy
        return true
    }

    /// `q ← H q` by the two-loop recursion over the pairs (newest first, then oldest first), with
    /// `H₀ = hDiagonal · I`; `q` holds `count` values.
    ///
    /// With 100 pairs of image-sized vectors this is 400 passes over memory per step (measured:
    /// bench/RESULTS.md, "L-BFGS two-loop recursion"); each `sweep` below does an update of q and the next
    /// dot product with q in one pass, split over the workers (partial sums added in a fixed order, so
    /// a run is reproducible for a given thread count).
    func applyInverseHessian(to q: UnsafeMutablePointer<Double>) {
        let m = held, n = count
        let chunks = max(1, min(Parallel.threadCount, n / 16_384))
        var partial = [Double](repeating: 0, count: chunks)
        /// q ← scale·q + a·v, then returns dot·q (0 without `dot`).
        func sweep(scale: Double = 1, add: (a: Double, v: UnsafeMutablePointer<Element>)? = nil,
                   dot: UnsafeMutablePointer<Element>? = nil) -> Double {
            partial.withUnsafeMutableBufferPointer { partial in
                let partial = partial.baseAddress!
                let a = add?.a ?? 0
                Parallel.forEach(chunks) { chunk in
                    var sum = 0.0
                    for j in Parallel.part(chunk, of: chunks, splitting: n) {
                        var value = scale * q[j]
                        if let v = add?.v { value += a * Double(v[j].float) }
                        q[j] = value
                        if let d = dot { sum += Double(d[j].float) * value }
                    }
                    partial[chunk] = sum
                }
                return (0..<chunks).reduce(0.0) { $0 + partial[$1] }
            }
        }
        guard m > 0 else {
            _ = sweep(scale: hDiagonal)
            return
        }
        var alpha = [Double](repeating: 0, count: m)
        var sq = sweep(dot: vectors(slot(m - 1)).s)
        for i in stride(from: m - 1, through: 0, by: -1) {
            alpha[i] = inverseCurvatures[slot(i)] * sq
            sq = sweep(add: (-alpha[i], vectors(slot(i)).y), dot: i > 0 ? vectors(slot(i - 1)).s : nil)
        }
        var yr = sweep(scale: hDiagonal, dot: vectors(slot(0)).y)
        for i in 0..<m {
            let beta = inverseCurvatures[slot(i)] * yr
            yr = sweep(add: (alpha[i] - beta, vectors(slot(i)).s), dot: i + 1 < m ? vectors(slot(i + 1)).y : nil)
        }
    }

    // MARK: - State

    /// H-diagonal scale (Float64), rho (Float64 × held), the s then the y vectors, oldest first
    /// (`Element`'s bit pattern × count each).
    func exportState(_ writer: inout StateWriter) {
        writer.append(hDiagonal)
        writer.append((0..<held).map { inverseCurvatures[slot($0)] })
        for part in 0..<2 {
            for i in 0..<held {
                let (s, y) = vectors(slot(i))
                writer.append(UnsafeBufferPointer(start: part == 0 ? s : y, count: count))
            }
        }
    }

    /// Reads `pairs` pairs as `exportState` wrote them and takes them over only when all are valid.
    func importState(_ reader: inout StateReader, pairs: Int) throws {
        guard pairs <= capacity else {
            throw NSTError.invalidArgument("session state holds \(pairs) L-BFGS pairs, the history size is \(capacity)")
        }
        let scale = try reader.double("L-BFGS H-diagonal scale")
        guard scale.isFinite, scale > 0 else {
            throw NSTError.invalidArgument("session state's L-BFGS H-diagonal scale must be finite and > 0, got \(scale)")
        }
        let rho = try reader.doubles(pairs, "L-BFGS rho")
        guard rho.allSatisfy({ $0 > 0 }) else { throw NSTError.invalidArgument("session state's L-BFGS rho must be > 0") }
        let read = (0..<pairs).map { _ in MappedMemory(byteCount: 2 * count * MemoryLayout<Element>.stride) }
        for (part, name) in [(0, "s"), (1, "y")] {
            for (i, memory) in read.enumerated() {
                let start = memory.pointer.bindMemory(to: Element.self, capacity: 2 * count) + part * count
                try reader.read(into: UnsafeMutableBufferPointer(start: start, count: count), "L-BFGS \(name)[\(i)]")
            }
        }
        (slots, inverseCurvatures, oldest, hDiagonal) = (read, rho, 0, scale)
    }
}
