/// Limited-memory BFGS as torch `optim.lbfgs` runs it for jcjohnson/neural-style: no line search,
/// a fixed learning rate (1 by default), one objective evaluation per iteration, and no
/// tolerance-based early stop (neural-style sets tolX = tolFun = -1).
///
/// Iteration k evaluates `f, g` at `x`; from the second iteration on it first stores the curvature
/// pair `s = t·d` (last move), `y = g − g_prev` when `y·s > 1e-10` (keeping at most `historySize`,
/// dropping the oldest), then finds the direction `d = −H g` with the two-loop recursion and the
/// initial scaling `H₀ = (y·s)/(y·y)` of the newest pair. The first move is `t = min(1, 1/‖g‖₁)·lr`
/// along `−g`, later ones `t = lr`. Then `x ← x + t·d`. With `storage` `.bfloat16` the pairs are kept
/// rounded, and the curvature condition and products use the rounded values.
///
/// Optionally (`lineSearch`, `LBFGS+LineSearch.swift`) each move is checked before it is taken and
/// shortened until the loss falls enough. Without it a style transfer's loss rises for a step or two
/// early on: the quasi-Newton move is the minimum of a quadratic whose curvature was measured over the
/// shorter moves before it, and the style term, quartic in the activations, curves up more steeply over
/// a long move (bench/RESULTS.md, "The L-BFGS jump at steps 2-4").
public final class LBFGS: ImageOptimizer {
    public let historySize: Int
    public let learningRate: Float
    public let storage: LBFGSStorage
    /// Whether each move is found by the backtracking line search (`searchingStep`).
    public let lineSearch: Bool
    /// Iterations taken since creation or `reset`.
    public internal(set) var iteration = 0
    /// The gradient at the point the last step evaluated (with the line search: at `x`, where it moved).
    var previousGradient: [Float] = []
    /// The last move `t·d`.
    var previousStep: [Float] = []
    /// With the line search, the loss at `x` after the last step (its gradient is `previousGradient`).
    var currentLoss = 0.0
    private(set) var pairs: any PairHistory
    /// Whether the pairs keep their inner products (`CorrectionPairs.tracksProducts`); nil: decided by the
    /// sizes. Tests set it to compare both ways of finding the direction; read when the pairs are made.
    var pairProducts: Bool?

    /// The curvature condition below which a pair is skipped (torch's constant).
    static let curvatureThreshold = 1e-10

    /// - Parameters:
    ///   - historySize: correction pairs kept, >= 1 (a session's default is in `StyleTransferSession.Configuration`).
    ///   - learningRate: finite, > 0.
    ///   - storage: how the pairs are stored.
    ///   - lineSearch: find each move by backtracking (more than one evaluation in some steps) instead of
    ///     taking it whole (torch's behaviour).
    /// - Throws: `NSTError.invalidArgument`.
    public init(historySize: Int, learningRate: Float = 1, storage: LBFGSStorage = .float32, lineSearch: Bool = false) throws {
        guard historySize >= 1 else { throw NSTError.invalidArgument("LBFGS history size must be >= 1, got \(historySize)") }
        guard learningRate.isFinite, learningRate > 0 else {
            throw NSTError.invalidArgument("L-BFGS learning rate must be finite and > 0, got \(learningRate)")
        }
        self.historySize = historySize
        self.learningRate = learningRate
        self.storage = storage
        self.lineSearch = lineSearch
        pairs = Self.makePairs(storage, historySize, count: 0, tracksProducts: nil)
    }

    private static func makePairs(_ storage: LBFGSStorage, _ capacity: Int, count: Int, tracksProducts: Bool?) -> any PairHistory {
        switch storage {
        case .float32: CorrectionPairs<Float>(capacity: capacity, count: count, tracksProducts: tracksProducts)
        case .bfloat16: CorrectionPairs<BFloat16>(capacity: capacity, count: count, tracksProducts: tracksProducts)
        }
    }

    /// Without the line search: evaluates `x` and moves it. With it: see `searchingStep`.
    public func step(_ x: inout [Float], objective: OptimizerObjective) throws -> Double {
        if lineSearch { return try searchingStep(&x, objective: objective) }
        let (loss, g) = try objective(x)
        try OptimizerChecks.validate(gradient: g, count: x.count)
        if previousGradient.count != x.count { reset(count: x.count) }

        if iteration == 0 {
            let t = firstStepLength(gradient: g)
            previousStep = g.map { t * -$0 }
        } else {
            _ = LayerProfiler.measure(.lbfgsPairs) {
                pairs.offer(step: previousStep, gradient: g, previousGradient: previousGradient,
                            threshold: Self.curvatureThreshold)
            }
            let restarted = LayerProfiler.measure(.lbfgsDirection) {
                descentDirection(gradient: g, scaledBy: learningRate, into: &previousStep).restarted
            }
            if restarted { pairs.clear() }
        }
        previousGradient = g
        let move = previousStep
        for i in x.indices { x[i] += move[i] }
        iteration += 1
        return loss
    }

    /// The length of the first move along `−g`: `min(1, 1/‖g‖₁)·lr` (1/0 = inf, so a zero gradient keeps lr).
    func firstStepLength(gradient g: [Float]) -> Float {
        let l1 = g.reduce(0.0) { $0 + Double(abs($1)) }
        return Float(min(1, 1 / l1)) * learningRate
    }

    /// Sets `move = t·d` (same count as `g`) with `d = −H g` by the two-loop recursion over the pairs. With
    /// every stored pair satisfying y·s > 0, H is positive definite and d is a descent direction; guard
    /// anyway (torch would stop here) by restarting from `d = −g`, reported as `restarted`: the caller then
    /// clears the pairs (once nothing can fail any more, so a failed step leaves the state as it was).
    /// `slope` is `g·d` (d as Float, the move's own values, before the scaling by `t`).
    func descentDirection(gradient g: [Float], scaledBy t: Float, into move: inout [Float]) -> (restarted: Bool, slope: Double) {
        var slope = g.withUnsafeBufferPointer { g in
            move.withUnsafeMutableBufferPointer { pairs.direction(gradient: g.baseAddress!, scaledBy: t, into: $0.baseAddress!) }
        }
        let restart = slope > 0
        if restart {
            slope = -OptimizerChecks.dot(g, g)  // g·(−g), as the sum of the products −g_j²
            for j in g.indices { move[j] = t * -g[j] }
        }
        return (restart, slope)
    }

    public func reset() { reset(count: 0) }

    /// Forgets the iterations, making room for pairs of `count` values.
    func reset(count: Int) {
        iteration = 0
        previousGradient = []
        previousStep = []
        currentLoss = 0
        pairs = Self.makePairs(storage, historySize, count: count, tracksProducts: pairProducts)
    }

    /// Layout: history size (Int64), learning rate (Float32), pair storage (Int64, `LBFGSStorage`),
    /// line-search flag (UInt32 0/1), iteration (Int64), pairs held (Int64), then, from the second iteration
    /// on, the previous gradient and the previous step (Float32 × count each) and, with the line search, the
    /// loss at the image (Float64), then the pairs (`CorrectionPairs.exportState`).
    public func exportState(_ writer: inout StateWriter) {
        writer.append(historySize)
        writer.append(learningRate)
        writer.append(storage.rawValue)
        writer.append(UInt32(lineSearch ? 1 : 0))
        writer.append(iteration)
        writer.append(pairs.held)
        if iteration > 0 {
            writer.append(previousGradient)
            writer.append(previousStep)
            if lineSearch { writer.append(currentLoss) }
        }
        pairs.exportState(&writer)
    }

    public func importState(_ reader: inout StateReader, count: Int) throws {
        try OptimizerChecks.expect(try reader.count("L-BFGS history size"), equals: historySize, "L-BFGS history size")
        try OptimizerChecks.expect(try reader.float("L-BFGS learning rate"), equals: learningRate, "L-BFGS learning rate")
        try OptimizerChecks.expect(try reader.count("L-BFGS pair storage"), equals: storage.rawValue, "L-BFGS pair storage")
        try OptimizerChecks.expect(try reader.flag("L-BFGS line search"), equals: lineSearch, "L-BFGS line search")
        let iterations = try reader.count("L-BFGS iteration")
        let held = try reader.count("L-BFGS pair count")
        // Without the line search a step stores the previous step's pair; with it, its own.
        guard held <= (lineSearch ? iterations : max(0, iterations - 1)) else {
            throw NSTError.invalidArgument("session state holds \(held) L-BFGS pairs after \(iterations) iterations")
        }
        let gradient = iterations > 0 ? try reader.floats(count, "L-BFGS previous gradient") : []
        let move = iterations > 0 ? try reader.floats(count, "L-BFGS previous step") : []
        let loss = lineSearch && iterations > 0 ? try reader.double("L-BFGS loss at the image") : 0
        guard loss.isFinite else { throw NSTError.invalidArgument("session state's L-BFGS loss at the image is not finite") }
        let read = Self.makePairs(storage, historySize, count: count, tracksProducts: pairProducts)
        try read.importState(&reader, pairs: held)
        iteration = iterations
        previousGradient = gradient
        previousStep = move
        currentLoss = loss
        pairs = read
    }
}

/// `CorrectionPairs` whatever its element type.
protocol PairHistory {
    var held: Int { get }
    func clear()
    @discardableResult
    func offer(step: [Float], gradient: [Float], previousGradient: [Float], threshold: Double) -> Bool
    func direction(gradient g: UnsafePointer<Float>, scaledBy t: Float, into move: UnsafeMutablePointer<Float>) -> Double
    func exportState(_ writer: inout StateWriter)
    func importState(_ reader: inout StateReader, pairs: Int) throws
}

extension CorrectionPairs: PairHistory {}
