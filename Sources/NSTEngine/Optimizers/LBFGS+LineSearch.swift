/// The optional backtracking line search of `LBFGS` (`lineSearch: true`).
///
/// Without it L-BFGS takes each quasi-Newton move whole, as torch does for neural-style, and a style
/// transfer's loss can rise for a step when a move overshoots (bench/RESULTS.md, "The L-BFGS jump at steps
/// 2-4"). With it a step tries the move `x + t·d` and accepts it only when the loss falls at least
/// `sufficientDecrease · t · (g·d)` (Armijo's condition); otherwise it tries again at the minimum of the
/// parabola through `f(x)`, the slope `g·d` and the trial's loss, kept within `[0.1 t, 0.5 t]`. A step that
/// needs no backtracking costs one evaluation, as without the search: the accepted trial's loss and
/// gradient are kept for the next step, and the curvature pair is the move actually made.
extension LBFGS {
    /// Armijo's constant (Nocedal and Wright's usual value).
    static let sufficientDecrease = 1e-4
    /// Trials per step; when all fail, the last (shortest) one is taken and the history cleared, since the
    /// curvature model proved useless there.
    static let maxTrials = 10

    /// Moves `x` to an accepted trial and returns its loss (the loss at the new `x`). The first step after
    /// creation, `reset` or a change of size also evaluates `x` itself (two or more evaluations); later
    /// steps know it.
    /// - Throws: as `ImageOptimizer.step`; `x` and the state are unchanged then.
    func searchingStep(_ x: inout [Float], objective: OptimizerObjective) throws -> Double {
        let fresh = iteration == 0 || previousGradient.count != x.count
        var (loss, g) = (currentLoss, previousGradient)
        if fresh {
            (loss, g) = try objective(x)
            try OptimizerChecks.validate(gradient: g, count: x.count)
        }
        var direction = [Float](repeating: 0, count: x.count)
        var t = learningRate
        var (restarted, slope) = (false, 0.0)  // slope g·d <= 0: a descent direction or zero
        if fresh {
            t = firstStepLength(gradient: g)
            for j in g.indices { direction[j] = -g[j] }
            slope = -OptimizerChecks.dot(g, g)
        } else {
            (restarted, slope) = descentDirection(gradient: g, scaledBy: 1, into: &direction)
        }
        var trial: (x: [Float], loss: Double, gradient: [Float])
        var trials = 0
        while true {
            let point = zip(x, direction).map { $0 + t * $1 }
            let (trialLoss, trialGradient) = try objective(point)
            try OptimizerChecks.validate(gradient: trialGradient, count: x.count)
            trial = (point, trialLoss, trialGradient)
            trials += 1
            if trialLoss <= loss + Self.sufficientDecrease * Double(t) * slope { break }
            if trials == Self.maxTrials {
                restarted = true  // the curvature model proved useless here
                break
            }
            let excess = trialLoss - loss - slope * Double(t)  // > 0 here: the parabola opens upwards
            let minimum = -slope * Double(t) * Double(t) / (2 * excess)
            t = Float(min(max(minimum, 0.1 * Double(t)), 0.5 * Double(t)))
        }
        if fresh { reset(count: x.count) }
        if restarted { pairs.clear() }
        let s = zip(trial.x, x).map { $0 - $1 }  // the move as rounded into x
        pairs.offer(step: s, gradient: trial.gradient, previousGradient: g, threshold: Self.curvatureThreshold)
        previousGradient = trial.gradient
        previousStep = s
        currentLoss = trial.loss
        x = trial.x
        iteration += 1
        return trial.loss
    }
}
