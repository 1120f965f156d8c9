import NSTEngine

/// The set of live handles given to C callers, and the only code that turns a handle into an object.
///
/// A handle is not an address: it encodes a slot of this registry and the slot's generation,
/// `tag << 56 | slot << 32 | generation`. Freeing a handle bumps its slot's generation, so the old
/// value never matches again, also after a new object takes the slot (with addresses as handles,
/// a new object at a freed object's address made the stale handle valid again, and freeing it twice
/// freed someone else's object). A slot whose generation would wrap is retired, never reused. The
/// tag keeps handles outside user-space addresses (below 2^57 on x86-64 and AArch64), so a pointer
/// passed by mistake is recognised as foreign; handles are never dereferenced, by C or by Swift.
///
/// A lookup checks that the handle is live and names the expected type, and returns a strong
/// reference: an object freed by another thread mid-call lives until that call ends.
final class HandleRegistry: @unchecked Sendable {
    static let shared = HandleRegistry()

    private static let tag: UInt64 = 0x4E  // "N"; the top byte of every handle
    private static let slotBits: UInt64 = 24
    private static let maximumSlots = 1 << slotBits

    private struct Slot {
        var generation: UInt32 = 0
        var object: AnyObject?
    }

    private let lock = Lock()
    private var slots: [Slot] = []
    /// Free slots, reused last-freed first.
    private var freeSlots: [Int] = []
    private var liveCount = 0

    /// Registers `object` and returns its handle.
    /// - Throws: `NSTError.outOfMemory` when 2^24 handles are live or retired.
    func register(_ object: AnyObject) throws -> OpaquePointer {
        let (slot, generation): (Int, UInt32) = try lock.withLock {
            let slot: Int
            if let reused = freeSlots.popLast() {
                slot = reused
            } else {
                guard slots.count < Self.maximumSlots else {
                    throw NSTError.outOfMemory("no free handle: \(Self.maximumSlots) handles are live or retired")
                }
                slots.append(Slot())
                slot = slots.count - 1
            }
            slots[slot].object = object
            liveCount += 1
            return (slot, slots[slot].generation)
        }
        let bits = Self.tag << 56 | UInt64(slot) << 32 | UInt64(generation)
        guard let handle = OpaquePointer(bitPattern: UInt(bits)) else {
            throw NSTError.internalError("handle \(bits) is zero")  // unreachable: the tag is non-zero
        }
        return handle
    }

    /// The slot `handle` names, if it carries the registry's tag and a slot that exists (live or not).
    private func slot(of handle: OpaquePointer?) -> (index: Int, generation: UInt32)? {
        let bits = UInt64(UInt(bitPattern: handle))
        guard bits >> 56 == Self.tag else { return nil }
        let index = Int((bits >> 32) & (UInt64(Self.maximumSlots) - 1))
        guard index < slots.count else { return nil }
        return (index, UInt32(truncatingIfNeeded: bits))
    }

    /// The live object of type `T` named by `handle`, or nil.
    func lookup<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) -> T? {
        lock.withLock {
            guard let (index, generation) = slot(of: handle), slots[index].generation == generation else { return nil }
            return slots[index].object as? T
        }
    }

    /// Unregisters `handle` if it is a live `T`; anything else (NULL, stale, foreign, another kind) is ignored.
    func remove<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) {
        // Release outside the lock: deinit may free large buffers.
        let removed: AnyObject? = lock.withLock {
            guard let (index, generation) = slot(of: handle), slots[index].generation == generation,
                  slots[index].object is T else { return nil }
            let object = slots[index].object
            slots[index].object = nil
            liveCount -= 1
            if generation < UInt32.max {
                slots[index].generation = generation + 1
                freeSlots.append(index)
            }
            return object
        }
        _ = removed
    }

    /// Number of live handles (for leak tests).
    var count: Int { lock.withLock { liveCount } }
}
