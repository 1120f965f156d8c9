/// Reusable float buffers for one evaluation context, so repeated forward/backward passes do not
/// allocate. Each buffer belongs to one purpose (`ScratchSlot`), grows on demand and never shrinks.
///
/// Not thread-safe: each `NetworkEvaluation` (and each `StyleTransferObjective`) owns its own instance.
public final class ScratchSpace {
    private var slots: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)]

    public init() {
        slots = ScratchSlot.allCases.map { _ in (UnsafeMutablePointer<Float>.allocate(capacity: 1), 1) }
    }

    deinit {
        for slot in slots { slot.pointer.deallocate() }
    }

    /// A buffer of at least `count` floats for `slot`. Contents are unspecified; the pointer stays
    /// valid until the next call for the same slot with a larger `count`, or until deinit.
    func buffer(_ slot: ScratchSlot, count: Int) -> UnsafeMutablePointer<Float> {
        let index = slot.rawValue
        if slots[index].capacity < count {
            slots[index].pointer.deallocate()
            slots[index] = (UnsafeMutablePointer<Float>.allocate(capacity: count), count)
        }
        return slots[index].pointer
    }

    /// Total floats currently held, for memory diagnostics.
    var capacity: Int { slots.reduce(0) { $0 + $1.capacity } }
}

/// What a `ScratchSpace` buffer is for. One slot per purpose, so a function holding one buffer can call
/// another that takes its own without either overwriting the other.
enum ScratchSlot: Int, CaseIterable {
    /// `Im2colConv3x3`: the column matrix of one band of rows.
    case im2colColumns
    /// `WinogradConvolution`: each worker's zero-padded rows of one band.
    case winogradPaddedInput
    /// `WinogradConvolution`: the transformed input tiles V of a band.
    case winogradTransformedInput
    /// `WinogradConvolution`: the products M of a band.
    case winogradProducts
    /// `GramMatrix.backward`: `gradGram + gradGramᵀ` when the caller's gradient is not symmetric.
    case gramGradientSum
    /// `StyleTransferObjective.evaluate`: the total-variation term's gradient.
    case totalVariationGradient
}
