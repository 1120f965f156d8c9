/// The L-BFGS curvature pairs `s`, `y` (at most `capacity`, oldest dropped first) with `1/(y·s)` and
/// the initial scaling `H₀ = (y·s)/(y·y)` of the newest, stored as `Element`.
///
/// Each pair lives in a slot of `MappedMemory` allocated once and then reused in a ring: a long run
/// does not cycle image-sized arrays through malloc (which can keep freed ones resident, see
/// `MappedMemory`), and clearing returns the memory at once.
///
/// The direction (`CorrectionPairs+Direction.swift`) comes from the inner products of the stored vectors
/// with each other, kept here between steps (`products`), when they take little memory next to the
/// pairs themselves (`tracksProducts`).
final class CorrectionPairs<Element: StoredFloat> {
    let capacity: Int
    /// Values per vector.
    let count: Int
    /// Slot k holds s (`count` values) then y.
    private(set) var slots: [MappedMemory] = []
    /// The slot of the oldest pair (0 until the ring is full).
    private(set) var oldest = 0
    /// 1 / (y·s) per slot.
    private(set) var inverseCurvatures: [Double] = []
    private(set) var hDiagonal = 1.0
    /// Whether the direction is computed from the stored vectors' inner products (`products`) rather than
    /// by the two-loop recursion over the vectors: with at least 64 values per pair held, so that the
    /// products, (2m)² Doubles, stay below 1/16 of the pairs' own memory.
    let tracksProducts: Bool
    /// With `tracksProducts`, the inner products of the stored vectors, `[2·held, 2·held]`, vector `2k` being
    /// slot k's s and `2k + 1` its y; the rows and columns of the `staleSlots` are not yet computed.
    var products: [Double] = []
    /// Slots stored since the products were last brought up to date.
    var staleSlots: Set<Int> = []
    /// The Double vector of the two-loop recursion without `tracksProducts` (mapped, kept between steps so
    /// that no image-sized block cycles through malloc).
    var recursionWork: MappedMemory?

    /// - Parameter tracksProducts: nil to decide by the sizes (as above); tests set it to compare both ways.
    init(capacity: Int, count: Int, tracksProducts: Bool? = nil) {
        (self.capacity, self.count) = (capacity, count)
        self.tracksProducts = tracksProducts ?? PairProducts.kept(capacity: capacity, count: count)
    }

    /// Pairs held.
    var held: Int { slots.count }

    func clear() {
        slots = []
        inverseCurvatures = []
        products = []
        staleSlots = []
        (oldest, hDiagonal) = (0, 1)
    }

    func vectors(_ slot: Int) -> (s: UnsafeMutablePointer<Element>, y: UnsafeMutablePointer<Element>) {
        let s = slots[slot].pointer.bindMemory(to: Element.self, capacity: 2 * count)
        return (s, s + count)
    }

    /// The slot of pair `i`, 0 the oldest.
    func slot(_ i: Int) -> Int { (oldest + i) % slots.count }

    /// Adds an empty slot (its pair not yet written) and its rows and columns of `products`.
    private func appendSlot() {
        slots.append(MappedMemory(byteCount: 2 * count * MemoryLayout<Element>.stride))
        inverseCurvatures.append(0)
        guard tracksProducts else { return }
        let (old, new) = (2 * (slots.count - 1), 2 * slots.count)
        var grown = [Double](repeating: 0, count: new * new)
        for v in 0..<old {
            for w in 0..<old { grown[v * new + w] = products[v * old + w] }
        }
        products = grown
    }

    /// Stores `s = step`, `y = gradient − previousGradient` (as `Element`) if the rounded pair satisfies the
    /// curvature condition `y·s > threshold`, dropping the oldest pair when full.
    /// - Returns: whether the pair was stored.
    @discardableResult
    func offer(step: [Float], gradient: [Float], previousGradient: [Float], threshold: Double) -> Bool {
        // One pass for the products, a second to store: the oldest pair's slot may only be overwritten
        // once the new pair is accepted. Both by blocks of y = gradient − previousGradient.
        let (ys, yy) = step.withUnsafeBufferPointer { step in
            gradient.withUnsafeBufferPointer { gradient in
                previousGradient.withUnsafeBufferPointer { previous in
                    curvatureProducts(step.baseAddress!, gradient.baseAddress!, previous.baseAddress!)
                }
            }
        }
        guard ys > threshold, ys.isFinite, yy.isFinite else { return false }
        let target: Int
        if slots.count < capacity {
            appendSlot()
            target = slots.count - 1
        } else {
            target = oldest
            oldest = (oldest + 1) % capacity
        }
        let (s, y) = vectors(target)
        step.withUnsafeBufferPointer { step in
            gradient.withUnsafeBufferPointer { gradient in
                previousGradient.withUnsafeBufferPointer { previous in
                    forEachBlockOfY(gradient.baseAddress!, previous.baseAddress!) { _, values, difference in
                        Element.store(step.baseAddress! + values.lowerBound, into: s + values.lowerBound, count: values.count)
                        Element.store(difference, into: y + values.lowerBound, count: values.count)
                    }
                }
            }
        }
        inverseCurvatures[target] = 1 / ys
        hDiagonal = ys / yy
        if tracksProducts { staleSlots.insert(target) }
        return true
    }

    /// Workers of the passes over the vectors.
    var chunks: Int { max(1, min(Parallel.threadCount, count / 16_384)) }

    /// Worker `chunk`'s consecutive range of values, block-aligned.
    func range(_ chunk: Int, of chunks: Int) -> Range<Int> {
        Parallel.part(chunk, of: chunks, splitting: count, alignment: PairSweeps.block)
    }

    /// Calls `body(chunk, values, y)` for every block of values, on the workers (`chunk` is the worker's
    /// index in `0..<chunks`, blocks in order within it), with `y = gradient − previousGradient` there.
    private func forEachBlockOfY(_ gradient: UnsafePointer<Float>, _ previousGradient: UnsafePointer<Float>,
                                 _ body: (Int, Range<Int>, UnsafePointer<Float>) -> Void) {
        let chunks = self.chunks, block = PairSweeps.block
        Parallel.forEach(chunks) { chunk in
            let difference = UnsafeMutablePointer<Float>.allocate(capacity: block)
            defer { difference.deallocate() }
            let values = range(chunk, of: chunks)
            for start in stride(from: values.lowerBound, to: values.upperBound, by: block) {
                let length = min(block, values.upperBound - start)
                for j in 0..<length { difference[j] = gradient[start + j] - previousGradient[start + j] }
                body(chunk, start..<start + length, difference)
            }
        }
    }

    /// `(y·s, y·y)` of the pair as it would be stored (rounded to `Element`), in Double.
    private func curvatureProducts(_ step: UnsafePointer<Float>, _ gradient: UnsafePointer<Float>,
                                   _ previous: UnsafePointer<Float>) -> (ys: Double, yy: Double) {
        let chunks = self.chunks, block = PairSweeps.block
        var partial = [Double](repeating: 0, count: 2 * chunks)
        partial.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * chunks * block)
            defer { scratch.deallocate() }
            forEachBlockOfY(gradient, previous) { chunk, values, difference in
                let own = scratch + 2 * chunk * block
                let y = Element.rounded(difference, count: values.count, scratch: own)
                let s = Element.rounded(step + values.lowerBound, count: values.count, scratch: own + block)
                partial[2 * chunk] += PairSweeps.dot(y, s, count: values.count)
                partial[2 * chunk + 1] += PairSweeps.dot(y, y, count: values.count)
            }
        }
        // Chunks added in their order: reproducible for a given worker count.
        var (ys, yy) = (0.0, 0.0)
        for chunk in 0..<chunks {
            ys += partial[2 * chunk]
            yy += partial[2 * chunk + 1]
        }
        return (ys, yy)
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
        if tracksProducts {
            products = [Double](repeating: 0, count: 4 * pairs * pairs)
            staleSlots = Set(0..<pairs)
        }
    }
}

/// The rule and the size of `CorrectionPairs`' kept inner products, for the pairs and the memory prediction.
enum PairProducts {
    /// Whether `capacity` pairs of `count` values keep them: the (2m)² Doubles then stay below 1/16 of the
    /// pairs' own memory.
    static func kept(capacity: Int, count: Int) -> Bool { capacity <= count / 64 }

    /// Bytes of the inner products of `pairs` pairs.
    static func bytes(pairs: Int) -> Int { 4 * pairs * pairs * MemoryLayout<Double>.stride }
}
