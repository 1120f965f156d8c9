/// One worker's buffers for `HistogramLoss`'s exact rank remap, reused for every channel it takes, and the
/// remap itself: each value of a channel becomes `value − target[rank]`, its rank that of a stable sort by
/// value (equal values in position order; a value's bits ordered as an unsigned integer, so `−0.0` ranks
/// just below `+0.0`).
///
/// The remap is the histogram term's main cost (relu1_1 at 512 px holds 16.7 M values), so it does only
/// what the ranks need; each point below removes work that a plain radix sort of every value does:
/// - After a ReLU about half of the values are exactly `+0.0`. They all tie, so their ranks are one run in
///   position order (after the negative values, before the positive ones): only the other values are sorted.
/// - The first pass finds the zeros and collects the other values without a branch on the value (zeros
///   fall at random, a branch would mispredict half the time).
/// - The sort is a least-significant-digit radix sort of the values' ordered bits minus the channel's
///   smallest, so its digits cover only the bits that differ; one counting pass fills every pass's buckets.
/// - The remap reads each value back from its sorted key, not from the plane at random (a load on the
///   critical path: measured ~20 % slower overall, though the line is written anyway).
/// - Buffers are allocated once per worker, not per channel.
///
/// The squared differences are summed in rank order, the zeros' run in its place, as a plain loop over a
/// full sort would sum them, so the loss is bitwise the same.
struct HistogramRanking: ~Copyable {
    /// Widest digit of one radix pass: 2048 buckets of 4 bytes stay in the L1 cache, and 3 passes cover 32 bits.
    static let maxDigitBits = 11
    private static let maxPasses = 3
    /// Positions of the largest channel the buffers hold.
    private let capacity: Int
    /// `keys`: sort keys (ordered value bits above the position) from the front, the positions of the `+0.0`
    /// values from the back, so the two take no more memory than a plain radix sort of every value (the sort
    /// moves only the keys); one slot more than the capacity keeps the two writes of the collecting pass
    /// apart. `other`: the other buffer of each pass.
    private let keys, other: UnsafeMutablePointer<UInt64>
    /// Every pass's bucket counts, then start offsets.
    private let counts: UnsafeMutablePointer<UInt32>

    /// Buffers for channels of up to `capacity` positions, at most `UInt32.max` (positions are kept in 32
    /// bits, see `HistogramLoss.init`).
    init(capacity: Int) {
        self.capacity = capacity
        keys = .allocate(capacity: capacity + 1)
        other = .allocate(capacity: max(1, capacity))
        counts = .allocate(capacity: Self.maxPasses << Self.maxDigitBits)
    }

    deinit {
        keys.deallocate()
        other.deallocate()
        counts.deallocate()
    }

    /// Writes `value − target[rank]` of each of the `count` (at most the capacity) values of `plane` at its
    /// place in `difference` (which may be `plane` itself: every value is read before any is written) and
    /// returns the sum of the differences' squares (in Double, in rank order).
    func remap(_ plane: UnsafePointer<Float>, into difference: UnsafeMutablePointer<Float>, count: Int,
               onto target: UnsafePointer<Float>) -> Double {
        // Every value is written both as a key and as a zero position; only the list it belongs to
        // advances. A zero's ordered value is made neutral for the smallest and the largest.
        var (sorted, zeros, negatives) = (0, 0, 0)
        var (lowest, highest) = (UInt32.max, UInt32.min)
        for i in 0..<count {
            let bits = plane[i].bitPattern
            let ordered = Self.ordered(bits)
            let nonZero = (bits | (0 &- bits)) &>> 31, zeroMask = nonZero &- 1
            keys[sorted] = UInt64(ordered) &<< 32 | UInt64(truncatingIfNeeded: i)
            keys[capacity &- zeros] = UInt64(truncatingIfNeeded: i)
            sorted &+= Int(nonZero)
            zeros &+= Int(nonZero ^ 1)
            negatives &+= Int(~ordered &>> 31)
            lowest = min(lowest, ordered | zeroMask)
            highest = max(highest, ordered & ~zeroMask)
        }
        let order = sortByValue(count: sorted, lowest: lowest, highest: highest)
        var sum = 0.0
        func remap(_ value: Float, at i: Int, rank: Int) {
            let remapped = value - target[rank]
            difference[i] = remapped
            sum += Double(remapped) * Double(remapped)
        }
        func remap(_ key: UInt64, rank: Int) {
            remap(Self.value(UInt32(truncatingIfNeeded: key &>> 32)), at: Int(key & 0xFFFF_FFFF), rank: rank)
        }
        for rank in 0..<negatives { remap(order[rank], rank: rank) }
        for run in 0..<zeros { remap(0, at: Int(keys[capacity &- run]), rank: negatives &+ run) }
        for index in negatives..<sorted { remap(order[index], rank: index &+ zeros) }
        return sum
    }

    /// A float's bits as an unsigned integer of the same order (negative values reversed below positive ones).
    private static func ordered(_ bits: UInt32) -> UInt32 { bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000 }

    /// The float whose bits `ordered` orders (its inverse).
    private static func value(_ ordered: UInt32) -> Float {
        Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered)
    }

    /// Sorts the first `count` keys by their upper 32 bits (all in `lowest...highest`), equal ones keeping
    /// their order; returns the buffer that holds the result (`keys` or `other`).
    ///
    /// The digits split the bits of `highest − lowest` evenly (a channel spanning ~20 binades leaves 28
    /// bits: 3 passes of 10), and a pass whose digit all keys share is skipped.
    private func sortByValue(count: Int, lowest: UInt32, highest: UInt32) -> UnsafeMutablePointer<UInt64> {
        guard count > 1, highest > lowest else { return keys }
        let span = 32 - (highest - lowest).leadingZeroBitCount
        let passes = (span + Self.maxDigitBits - 1) / Self.maxDigitBits
        let digitBits = (span + passes - 1) / passes
        let buckets = 1 << digitBits, mask = UInt32(buckets - 1)
        func digit(_ key: UInt64, _ pass: Int) -> Int {
            Int(((UInt32(truncatingIfNeeded: key &>> 32) &- lowest) &>> UInt32(truncatingIfNeeded: pass &* digitBits)) & mask)
        }
        counts.update(repeating: 0, count: passes * buckets)
        let (second, third) = (counts + buckets, counts + 2 * buckets)
        for k in 0..<count {
            let value = UInt32(truncatingIfNeeded: keys[k] &>> 32) &- lowest
            counts[Int(value & mask)] &+= 1
            if passes > 1 { second[Int((value &>> UInt32(digitBits)) & mask)] &+= 1 }
            if passes > 2 { third[Int((value &>> UInt32(2 * digitBits)) & mask)] &+= 1 }
        }
        var (source, target) = (keys, other)
        for pass in 0..<passes {
            let starts = counts + pass * buckets
            guard starts[digit(source[0], pass)] != UInt32(truncatingIfNeeded: count) else { continue }
            var start: UInt32 = 0
            for b in 0..<buckets { (starts[b], start) = (start, start &+ starts[b]) }
            for k in 0..<count {
                let key = source[k], d = digit(key, pass)
                target[Int(starts[d])] = key
                starts[d] &+= 1
            }
            (source, target) = (target, source)
        }
        return source
    }
}
