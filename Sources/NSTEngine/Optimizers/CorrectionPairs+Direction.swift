/// The L-BFGS direction `d = −H g` from the pairs, `H` being the inverse-Hessian approximation of the
/// two-loop recursion (Nocedal and Wright, algorithm 7.4) with `H₀ = hDiagonal · I`.
///
/// The recursion as written makes 2m + 1 passes over image-sized vectors (m pairs), each reading and
/// writing the Double vector q: with 100 pairs at 512 px, 3.8 GB of memory traffic per step. Every
/// vector it forms, though, is a combination of −g and the stored s and y, and every scalar it needs
/// (s_i·q, y_i·q) follows from the inner products among those vectors. So with `tracksProducts` the
/// recursion runs on the coefficients of that combination (O(m²) scalar work; the "vector-free" form of
/// Chen et al., NeurIPS 2014), from inner products kept between steps, and the vectors are touched in
/// two passes: one for the inner products of g and of the pairs stored since the last step with every
/// stored vector, one to form d. The iterates are the recursion's up to Double rounding (both
/// accumulate in Double; d is rounded to Float either way).
extension CorrectionPairs {
    /// Writes `t · d` into `move` (`count` values), d = −H g rounded to Float, and returns g·d (Double sum
    /// of the products with the rounded d).
    func direction(gradient g: UnsafePointer<Float>, scaledBy t: Float, into move: UnsafeMutablePointer<Float>) -> Double {
        if tracksProducts { return directionFromProducts(gradient: g, scaledBy: t, into: move) }
        let work = recursionWork ?? MappedMemory(byteCount: count * MemoryLayout<Double>.stride)
        recursionWork = work
        let q = work.pointer.bindMemory(to: Double.self, capacity: count)
        for j in 0..<count { q[j] = -Double(g[j]) }
        applyInverseHessian(to: q)
        var slope = 0.0
        for j in 0..<count {
            let d = Float(q[j])
            slope += Double(g[j]) * Double(d)
            move[j] = t * d
        }
        return slope
    }

    /// The stored vectors by index (`2k`: slot k's s, `2k + 1`: its y).
    private var storedVectors: [UnsafePointer<Element>] {
        (0..<held).flatMap { slot in
            let (s, y) = vectors(slot)
            return [UnsafePointer(s), UnsafePointer(y)]
        }
    }

    private func directionFromProducts(gradient g: UnsafePointer<Float>, scaledBy t: Float,
                                       into move: UnsafeMutablePointer<Float>) -> Double {
        let m = held, dimension = 2 * held
        let gradientProducts = updateProducts(gradient: g)
        // q = cg · g + Σ_k c[k] · vector k, starting from q = −g.
        var c = [Double](repeating: 0, count: dimension)
        var cg = -1.0
        func product(_ v: Int) -> Double {  // vector v · q
            var sum = cg * gradientProducts[v]
            for w in 0..<dimension where c[w] != 0 { sum += c[w] * products[v * dimension + w] }
            return sum
        }
        var alpha = [Double](repeating: 0, count: m)
        for i in stride(from: m - 1, through: 0, by: -1) {
            let k = slot(i)
            alpha[i] = inverseCurvatures[k] * product(2 * k)
            c[2 * k + 1] -= alpha[i]
        }
        cg *= hDiagonal
        for w in 0..<dimension { c[w] *= hDiagonal }
        for i in 0..<m {
            let k = slot(i)
            let beta = inverseCurvatures[k] * product(2 * k + 1)
            c[2 * k] += alpha[i] - beta
        }
        return combine(gradient: g, gradientCoefficient: cg, coefficients: c, scaledBy: t, into: move)
    }

    /// Brings `products` up to date for the stale slots and returns g's inner products with every stored
    /// vector, in one pass over them.
    private func updateProducts(gradient g: UnsafePointer<Float>) -> [Double] {
        let dimension = 2 * held, stored = storedVectors
        let probes = staleSlots.sorted().flatMap { [2 * $0, 2 * $0 + 1] }  // vectors to take products with, after g
        let rows = 1 + probes.count, chunks = self.chunks
        // The probes' Double rows of a block stay within 512 KiB (in L2) however many pairs are stale (all of
        // them after `importState`): 4096 values for g and one new pair, fewer for more.
        let block = max(16, min(PairSweeps.block, (1 << 16) / (3 * ((rows + 2) / 3)) / 16 * 16))
        var partial = [Double](repeating: 0, count: chunks * rows * dimension)
        partial.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            Parallel.forEach(chunks) { chunk in
                let out = partial + chunk * rows * dimension
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block)
                // The probes' block in Double, padded to a multiple of three rows (`dots` takes three).
                let groups = (rows + 2) / 3
                let probe = UnsafeMutablePointer<Double>.allocate(capacity: 3 * groups * block)
                defer { scratch.deallocate(); probe.deallocate() }
                let values = range(chunk, of: chunks)
                for start in stride(from: values.lowerBound, to: values.upperBound, by: block) {
                    let length = min(block, values.upperBound - start)
                    for r in 0..<(3 * groups) {
                        // Row 0 is g, rows 1... the stale pairs' vectors; the padding rows repeat g.
                        let source = r == 0 || r >= rows ? g + start
                            : Element.floats(stored[probes[r - 1]] + start, count: length, scratch: scratch)
                        PairSweeps.widen(source, into: probe + r * block, count: length)
                    }
                    for w in 0..<dimension {
                        let vector = Element.floats(stored[w] + start, count: length, scratch: scratch)
                        for group in 0..<groups {
                            let p = probe + 3 * group * block
                            let (d0, d1, d2) = PairSweeps.dots(vector, p, p + block, p + 2 * block, count: length)
                            let row = 3 * group
                            out[row * dimension + w] += d0
                            if row + 1 < rows { out[(row + 1) * dimension + w] += d1 }
                            if row + 2 < rows { out[(row + 2) * dimension + w] += d2 }
                        }
                    }
                }
            }
        }
        // Chunks added in their order: reproducible for a given worker count.
        var sums = [Double](repeating: 0, count: rows * dimension)
        for chunk in 0..<chunks {
            for i in sums.indices { sums[i] += partial[chunk * rows * dimension + i] }
        }
        for (r, v) in probes.enumerated() {
            for w in 0..<dimension {
                products[v * dimension + w] = sums[(r + 1) * dimension + w]
                products[w * dimension + v] = sums[(r + 1) * dimension + w]
            }
        }
        staleSlots = []
        return Array(sums[0..<dimension])
    }

    /// `move = t · Float(d)` with d = `gradientCoefficient` · g + Σ_k `coefficients[k]` · vector k (in Double),
    /// in one pass over the stored vectors; returns g·Float(d).
    private func combine(gradient g: UnsafePointer<Float>, gradientCoefficient cg: Double, coefficients c: [Double],
                         scaledBy t: Float, into move: UnsafeMutablePointer<Float>) -> Double {
        let dimension = c.count, stored = storedVectors, chunks = self.chunks, block = PairSweeps.block
        var slopes = [Double](repeating: 0, count: chunks)
        slopes.withUnsafeMutableBufferPointer { slopes in
            let slopes = slopes.baseAddress!
            Parallel.forEach(chunks) { chunk in
                let d = UnsafeMutablePointer<Double>.allocate(capacity: block)
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 5 * block)
                defer { d.deallocate(); scratch.deallocate() }
                var slope = 0.0
                let values = range(chunk, of: chunks)
                for start in stride(from: values.lowerBound, to: values.upperBound, by: block) {
                    let length = min(block, values.upperBound - start)
                    func vector(_ w: Int, _ r: Int) -> UnsafePointer<Float> {
                        Element.floats(stored[w] + start, count: length, scratch: scratch + r * block)
                    }
                    for j in 0..<length { d[j] = cg * Double(g[start + j]) }
                    var w = 0
                    while w + 4 <= dimension {
                        PairSweeps.accumulate4(d, c[w], vector(w, 0), c[w + 1], vector(w + 1, 1),
                                               c[w + 2], vector(w + 2, 2), c[w + 3], vector(w + 3, 3), count: length)
                        w += 4
                    }
                    for w in w..<dimension { PairSweeps.accumulate(d, c[w], vector(w, 0), count: length) }
                    let rounded = scratch + 4 * block
                    for j in 0..<length {
                        rounded[j] = Float(d[j])
                        move[start + j] = t * rounded[j]
                    }
                    slope += PairSweeps.dot(g + start, rounded, count: length)
                }
                slopes[chunk] = slope
            }
            return
        }
        return slopes.reduce(0, +)
    }

    /// `q ← H q` by the two-loop recursion over the vectors, newest pair first, then oldest first (without
    /// `tracksProducts`, where the pairs are few or the image tiny): each `sweep` does an update of q and the
    /// next inner product with q in one pass, split over the workers (partial sums added in a fixed order,
    /// so a run is reproducible for a given thread count).
    private func applyInverseHessian(to q: UnsafeMutablePointer<Double>) {
        let m = held, n = count
        let chunks = self.chunks
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
}
