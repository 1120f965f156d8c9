/// Limited-memory BFGS as torch `optim.lbfgs` runs it for jcjohnson/neural-style: no line search,
/// a fixed learning rate (1 by default), one objective evaluation per iteration, and no
/// tolerance-based early stop (neural-style sets tolX = tolFun = -1).
///
/// Iteration k evaluates `f, g` at `x`; from the second iteration on it first stores the curvature
/// pair `s = t·d` (last move), `y = g − g_prev` when `y·s > 1e-10` (keeping at most `historySize`,
/// dropping the oldest), then finds the direction `d = −H g` with the two-loop recursion and the
/// initial scaling `H₀ = (y·s)/(y·y)` of the newest pair. The first move is `t = min(1, 1/‖g‖₁)·lr`
/// along `−g`, later ones `t = lr`. Then `x ← x + t·d`.
public final class LBFGS: ImageOptimizer {
    public let historySize: Int
    public let learningRate: Float
    /// Iterations taken since creation or `reset`.
    public private(set) var iteration = 0
    private var previousGradient: [Float] = []
    /// The last move `t·d`.
    private var previousStep: [Float] = []
    private var sHistory: [[Float]] = []
    private var yHistory: [[Float]] = []
    /// 1 / (y·s) for each stored pair.
    private var rho: [Double] = []
    private var hDiagonal = 1.0

    /// The curvature condition below which a pair is skipped (torch's constant).
    static let curvatureThreshold = 1e-10

    /// - Parameters:
    ///   - historySize: correction pairs kept, >= 1 (a session's default is in `StyleTransferSession.Configuration`).
    ///   - learningRate: finite, > 0.
    /// - Throws: `NSTError.invalidArgument`.
    public init(historySize: Int, learningRate: Float = 1) throws {
        guard historySize >= 1 else { throw NSTError.invalidArgument("LBFGS history size must be >= 1, got \(historySize)") }
        guard learningRate.isFinite, learningRate > 0 else {
            throw NSTError.invalidArgument("L-BFGS learning rate must be finite and > 0, got \(learningRate)")
        }
        self.historySize = historySize
        self.learningRate = learningRate
    }

    public func step(_ x: inout [Float], objective: OptimizerObjective) throws -> Double {
        let (loss, g) = try objective(x)
        try OptimizerChecks.validate(gradient: g, count: x.count)
        if previousGradient.count != x.count { reset() }

        var direction: [Float]
        var t = learningRate
        if iteration == 0 {
            direction = g.map { -$0 }
            let l1 = g.reduce(0.0) { $0 + Double(abs($1)) }
            t = Float(min(1, 1 / l1)) * learningRate  // 1/0 = inf, so a zero gradient keeps t = lr
        } else {
            remember(gradient: g)
            direction = twoLoopDirection(gradient: g)
            // With every stored pair satisfying y·s > 0, H is positive definite and `direction` is a
            // descent direction; guard anyway (torch would stop here) by restarting from −g.
            if OptimizerChecks.dot(g, direction) > 0 {
                clearHistory()
                direction = g.map { -$0 }
            }
        }
        previousGradient = g
        previousStep = direction.map { t * $0 }
        for i in x.indices { x[i] += previousStep[i] }
        iteration += 1
        return loss
    }

    public func reset() {
        iteration = 0
        previousGradient = []
        previousStep = []
        clearHistory()
    }

    private func clearHistory() {
        sHistory = []
        yHistory = []
        rho = []
        hDiagonal = 1
    }

    /// Stores the pair of the last move if it satisfies the curvature condition.
    private func remember(gradient g: [Float]) {
        let y = zip(g, previousGradient).map { $0 - $1 }
        let s = previousStep
        let ys = OptimizerChecks.dot(y, s)
        guard ys > Self.curvatureThreshold else { return }
        if sHistory.count == historySize {
            sHistory.removeFirst()
            yHistory.removeFirst()
            rho.removeFirst()
        }
        sHistory.append(s)
        yHistory.append(y)
        rho.append(1 / ys)
        hDiagonal = ys / OptimizerChecks.dot(y, y)
    }

    /// Layout: history size (Int64), learning rate (Float32), iteration (Int64), pairs held (Int64),
    /// H-diagonal scale (Float64), then, from the second iteration on, the previous gradient and the
    /// previous step (Float32 × count each), then rho (Float64 × pairs) and the s and y pairs, oldest
    /// first (Float32 × count each).
    public func exportState(_ writer: inout StateWriter) {
        writer.append(historySize)
        writer.append(learningRate)
        writer.append(iteration)
        writer.append(sHistory.count)
        writer.append(hDiagonal)
        if iteration > 0 {
            writer.append(previousGradient)
            writer.append(previousStep)
        }
        writer.append(rho)
        for s in sHistory { writer.append(s) }
        for y in yHistory { writer.append(y) }
    }

    public func importState(_ reader: inout StateReader, count: Int) throws {
        try OptimizerChecks.expect(try reader.count("L-BFGS history size"), equals: historySize, "L-BFGS history size")
        try OptimizerChecks.expect(try reader.float("L-BFGS learning rate"), equals: learningRate, "L-BFGS learning rate")
        let iterations = try reader.count("L-BFGS iteration")
        let pairs = try reader.count("L-BFGS pair count")
        guard pairs <= historySize, pairs < max(1, iterations) else {
            throw NSTError.invalidArgument("session state holds \(pairs) L-BFGS pairs after \(iterations) iterations "
                                           + "with history size \(historySize)")
        }
        let scale = try reader.double("L-BFGS H-diagonal scale")
        guard scale.isFinite, scale > 0 else {
            throw NSTError.invalidArgument("session state's L-BFGS H-diagonal scale must be finite and > 0, got \(scale)")
        }
        let gradient = iterations > 0 ? try reader.floats(count, "L-BFGS previous gradient") : []
        let move = iterations > 0 ? try reader.floats(count, "L-BFGS previous step") : []
        let inverseCurvatures = try reader.doubles(pairs, "L-BFGS rho")
        guard inverseCurvatures.allSatisfy({ $0 > 0 }) else { throw NSTError.invalidArgument("session state's L-BFGS rho must be > 0") }
        let s = try (0..<pairs).map { try reader.floats(count, "L-BFGS s[\($0)]") }
        let y = try (0..<pairs).map { try reader.floats(count, "L-BFGS y[\($0)]") }
        iteration = iterations
        previousGradient = gradient
        previousStep = move
        rho = inverseCurvatures
        hDiagonal = scale
        sHistory = s
        yHistory = y
    }

    /// `−H g` by the two-loop recursion over the stored pairs (newest first, then oldest first).
    ///
    /// With 100 pairs of image-sized vectors this is 400 passes over memory per step (measured:
    /// bench/RESULTS.md, "L-BFGS two-loop recursion"); each `sweep` below does an update of q and the next
    /// dot product with q in one pass, split over the workers (partial sums added in a fixed order, so
    /// a run is reproducible for a given thread count).
    private func twoLoopDirection(gradient g: [Float]) -> [Float] {
        var q = g.map { -Double($0) }
        let m = sHistory.count
        var alpha = [Double](repeating: 0, count: m)
        q.withUnsafeMutableBufferPointer { q in
            let q = q.baseAddress!, n = g.count
            let chunks = max(1, min(Parallel.threadCount, n / 16_384))
            var partial = [Double](repeating: 0, count: chunks)
            /// q ← scale·q + a·v, then returns dot·q (0 without `dot`).
            func sweep(scale: Double = 1, add: (a: Double, v: [Float])? = nil, dot: [Float]? = nil) -> Double {
                partial.withUnsafeMutableBufferPointer { partial in
                    let partial = partial.baseAddress!
                    (add?.v ?? []).withUnsafeBufferPointer { v in
                        (dot ?? []).withUnsafeBufferPointer { d in
                            let a = add?.a ?? 0
                            Parallel.forEach(chunks) { chunk in
                                var sum = 0.0
                                for j in Parallel.part(chunk, of: chunks, splitting: n) {
                                    var value = scale * q[j]
                                    if add != nil { value += a * Double(v[j]) }
                                    q[j] = value
                                    if dot != nil { sum += Double(d[j]) * value }
                                }
                                partial[chunk] = sum
                            }
                        }
                    }
                    return (0..<chunks).reduce(0.0) { $0 + partial[$1] }
                }
            }
            guard m > 0 else {
                _ = sweep(scale: hDiagonal)
                return
            }
            var sq = sweep(dot: sHistory[m - 1])
            for i in stride(from: m - 1, through: 0, by: -1) {
                alpha[i] = rho[i] * sq
                sq = sweep(add: (-alpha[i], yHistory[i]), dot: i > 0 ? sHistory[i - 1] : nil)
            }
            var yr = sweep(scale: hDiagonal, dot: yHistory[0])
            for i in 0..<m {
                let beta = rho[i] * yr
                yr = sweep(add: (alpha[i] - beta, sHistory[i]), dot: i + 1 < m ? yHistory[i + 1] : nil)
            }
        }
        return q.map { Float($0) }
    }
}
