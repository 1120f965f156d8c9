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
    ///   - historySize: correction pairs kept, >= 1 (neural-style's default is 100).
    ///   - learningRate: finite, > 0.
    /// - Throws: `NSTError.invalidArgument`.
    public init(historySize: Int = 100, learningRate: Float = 1) throws {
        guard historySize >= 1 else { throw NSTError.invalidArgument("L-BFGS history must be >= 1, got \(historySize)") }
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

    /// `−H g` by the two-loop recursion over the stored pairs (newest first, then oldest first).
    private func twoLoopDirection(gradient g: [Float]) -> [Float] {
        var q = g.map { -Double($0) }
        var alpha = [Double](repeating: 0, count: sHistory.count)
        for i in sHistory.indices.reversed() {
            let s = sHistory[i], y = yHistory[i]
            var sq = 0.0
            for j in q.indices { sq += Double(s[j]) * q[j] }
            alpha[i] = rho[i] * sq
            for j in q.indices { q[j] -= alpha[i] * Double(y[j]) }
        }
        for j in q.indices { q[j] *= hDiagonal }
        for i in sHistory.indices {
            let s = sHistory[i], y = yHistory[i]
            var yr = 0.0
            for j in q.indices { yr += Double(y[j]) * q[j] }
            let beta = rho[i] * yr
            for j in q.indices { q[j] += (alpha[i] - beta) * Double(s[j]) }
        }
        return q.map { Float($0) }
    }
}
