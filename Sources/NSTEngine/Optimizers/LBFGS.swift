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
public final class LBFGS: ImageOptimizer {
    public let historySize: Int
    public let learningRate: Float
    public let storage: LBFGSStorage
    /// Iterations taken since creation or `reset`.
    public private(set) var iteration = 0
    private var previousGradient: [Float] = []
    /// The last move `t·d`.
    private var previousStep: [Float] = []
    private var pairs: any PairHistory
    /// The direction in Double while it is computed (mapped, kept between steps so that no image-sized
    /// block cycles through malloc).
    private var work: MappedMemory?

    /// The curvature condition below which a pair is skipped (torch's constant).
    static let curvatureThreshold = 1e-10

    /// - Parameters:
    ///   - historySize: correction pairs kept, >= 1 (a session's default is in `StyleTransferSession.Configuration`).
    ///   - learningRate: finite, > 0.
    ///   - storage: how the pairs are stored.
    /// - Throws: `NSTError.invalidArgument`.
    public init(historySize: Int, learningRate: Float = 1, storage: LBFGSStorage = .float32) throws {
        guard historySize >= 1 else { throw NSTError.invalidArgument("LBFGS history size must be >= 1, got \(historySize)") }
        guard learningRate.isFinite, learningRate > 0 else {
            throw NSTError.invalidArgument("L-BFGS learning rate must be finite and > 0, got \(learningRate)")
        }
        self.historySize = historySize
        self.learningRate = learningRate
        self.storage = storage
        pairs = Self.makePairs(storage, historySize, count: 0)
    }

    private static func makePairs(_ storage: LBFGSStorage, _ capacity: Int, count: Int) -> any PairHistory {
        switch storage {
        case .float32: CorrectionPairs<Float>(capacity: capacity, count: count)
        case .bfloat16: CorrectionPairs<BFloat16>(capacity: capacity, count: count)
        }
    }

    public func step(_ x: inout [Float], objective: OptimizerObjective) throws -> Double {
        let (loss, g) = try objective(x)
        try OptimizerChecks.validate(gradient: g, count: x.count)
        if previousGradient.count != x.count { reset(count: x.count) }

        var t = learningRate
        if iteration == 0 {
            let l1 = g.reduce(0.0) { $0 + Double(abs($1)) }
            t = Float(min(1, 1 / l1)) * learningRate  // 1/0 = inf, so a zero gradient keeps t = lr
            previousStep = g.map { t * -$0 }
        } else {
            pairs.offer(step: previousStep, gradient: g, previousGradient: previousGradient, threshold: Self.curvatureThreshold)
            moveAlongTwoLoopDirection(gradient: g, t: t)
        }
        previousGradient = g
        let move = previousStep
        for i in x.indices { x[i] += move[i] }
        iteration += 1
        return loss
    }

    /// Sets `previousStep = t·d` with `d = −H g`. With every stored pair satisfying y·s > 0, H is positive
    /// definite and d is a descent direction; guard anyway (torch would stop here) by restarting from −g.
    private func moveAlongTwoLoopDirection(gradient g: [Float], t: Float) {
        let n = g.count
        let work = self.work ?? MappedMemory(byteCount: n * MemoryLayout<Double>.stride)
        self.work = work
        let q = work.pointer.bindMemory(to: Double.self, capacity: n)
        for j in 0..<n { q[j] = -Double(g[j]) }
        pairs.applyInverseHessian(to: q)
        var slope = 0.0  // g·d, with d as Float (the move's own values)
        for j in 0..<n { slope += Double(g[j]) * Double(Float(q[j])) }
        let restart = slope > 0
        if restart { pairs.clear() }
        previousStep.withUnsafeMutableBufferPointer { move in
            for j in 0..<n { move[j] = restart ? t * -g[j] : t * Float(q[j]) }
        }
    }

    public func reset() { reset(count: 0) }

    private func reset(count: Int) {
        iteration = 0
        previousGradient = []
        previousStep = []
        work = nil
        pairs = Self.makePairs(storage, historySize, count: count)
    }

    /// Layout: history size (Int64), learning rate (Float32), pair storage (Int64, `LBFGSStorage`),
    /// iteration (Int64), pairs held (Int64), then, from the second iteration on, the previous gradient and
    /// the previous step (Float32 × count each), then the pairs (`CorrectionPairs.exportState`).
    public func exportState(_ writer: inout StateWriter) {
        writer.append(historySize)
        writer.append(learningRate)
        writer.append(storage.rawValue)
        writer.append(iteration)
        writer.append(pairs.held)
        if iteration > 0 {
            writer.append(previousGradient)
            writer.append(previousStep)
        }
        pairs.exportState(&writer)
    }

    public func importState(_ reader: inout StateReader, count: Int) throws {
        try OptimizerChecks.expect(try reader.count("L-BFGS history size"), equals: historySize, "L-BFGS history size")
        try OptimizerChecks.expect(try reader.float("L-BFGS learning rate"), equals: learningRate, "L-BFGS learning rate")
        try OptimizerChecks.expect(try reader.count("L-BFGS pair storage"), equals: storage.rawValue, "L-BFGS pair storage")
        let iterations = try reader.count("L-BFGS iteration")
        let held = try reader.count("L-BFGS pair count")
        guard held < max(1, iterations) else {
            throw NSTError.invalidArgument("session state holds \(held) L-BFGS pairs after \(iterations) iterations")
        }
        let gradient = iterations > 0 ? try reader.floats(count, "L-BFGS previous gradient") : []
        let move = iterations > 0 ? try reader.floats(count, "L-BFGS previous step") : []
        let read = Self.makePairs(storage, historySize, count: count)
        try read.importState(&reader, pairs: held)
        iteration = iterations
        previousGradient = gradient
        previousStep = move
        pairs = read
        work = nil
    }
}

/// `CorrectionPairs` whatever its element type.
protocol PairHistory {
    var held: Int { get }
    func clear()
    @discardableResult
    func offer(step: [Float], gradient: [Float], previousGradient: [Float], threshold: Double) -> Bool
    func applyInverseHessian(to q: UnsafeMutablePointer<Double>)
    func exportState(_ writer: inout StateWriter)
    func importState(_ reader: inout StateReader, pairs: Int) throws
}

extension CorrectionPairs: PairHistory {}
