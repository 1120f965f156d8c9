/// The objective an optimiser minimises: the loss at `x` and its gradient (same count as `x`).
public typealias OptimizerObjective = ([Float]) throws -> (loss: Double, gradient: [Float])

/// An iterative minimiser over a flat `[Float]` that evaluates the objective once per `step` (L-BFGS
/// with its line search: at least once), so a caller can report progress, cancel, or change its mind
/// between steps.
public protocol ImageOptimizer: AnyObject {
    /// Evaluates `objective` once at `x`, then moves `x` to the next iterate (L-BFGS with its line
    /// search: evaluates trial points and moves `x` to the accepted one).
    /// - Returns: the loss of the last point evaluated: `x` before the move (with the line search, the
    ///   accepted point, `x` after it).
    /// - Throws: whatever `objective` throws (then `x` and the optimiser state are unchanged), or
    ///   `NSTError.shape` / `.numeric` when the gradient has the wrong size or is not finite.
    func step(_ x: inout [Float], objective: OptimizerObjective) throws -> Double

    /// Forgets all state (moments, curvature history), as if newly created.
    func reset()

    /// Appends the optimiser's parameters and state (layout: `StyleTransferSession+State.swift`).
    func exportState(_ writer: inout StateWriter)

    /// Reads what `exportState` wrote for an optimiser with the same parameters over `count` variables
    /// and takes it over only when all of it is valid.
    /// - Throws: `NSTError.invalidArgument` naming what is truncated, out of range, not finite, or a
    ///   parameter that differs from this optimiser's; the state is unchanged then.
    func importState(_ reader: inout StateReader, count: Int) throws
}

/// Shared checks on what an objective returned.
enum OptimizerChecks {
    /// Refuses a state written by an optimiser with another value of parameter `name`.
    static func expect<T: Equatable>(_ stored: T, equals own: T, _ name: String) throws {
        guard stored == own else {
            throw NSTError.invalidArgument("session state's \(name) is \(stored), the session's is \(own)")
        }
    }

    static func validate(gradient: [Float], count: Int) throws {
        guard gradient.count == count else {
            throw NSTError.shape("objective returned \(gradient.count) gradient values for \(count) variables")
        }
        guard gradient.allSatisfy(\.isFinite) else { throw NSTError.numeric("objective gradient holds NaN or infinity") }
    }

    /// `Σ a_i b_i`, accumulated in Double so long vectors keep their precision.
    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += Double(a[i]) * Double(b[i]) }
        return sum
    }
}
