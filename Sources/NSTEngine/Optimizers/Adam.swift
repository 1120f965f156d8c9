import Glibc

/// Adam (Kingma & Ba) as in torch `optim.adam`, which jcjohnson/neural-style uses:
/// `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
/// `x ← x − lr · √(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)`.
public final class Adam: ImageOptimizer {
    public let learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Steps taken since creation or `reset`.
    public private(set) var stepCount = 0
    private var m: [Float] = []
    private var v: [Float] = []

    /// - Parameters: learningRate > 0, beta1 and beta2 in [0, 1), epsilon > 0, all finite (a session's
    ///   defaults are in `StyleTransferSession.Configuration`).
    /// - Throws: `NSTError.invalidArgument` naming the offending parameter.
    public init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float) throws {
        guard learningRate.isFinite, learningRate > 0 else {
            throw NSTError.invalidArgument("learning rate must be finite and > 0, got \(learningRate)")
        }
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
            throw NSTError.invalidArgument("Adam \(name) must be in [0, 1), got \(beta)")
        }
        guard epsilon.isFinite, epsilon > 0 else {
            throw NSTError.invalidArgument("Adam epsilon must be finite and > 0, got \(epsilon)")
        }
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func step(_ x: inout [Float], objective: OptimizerObjective) throws -> Double {
        let (loss, g) = try objective(x)
        try OptimizerChecks.validate(gradient: g, count: x.count)
        if m.count != x.count {
            m = [Float](repeating: 0, count: x.count)
            v = m
            stepCount = 0
        }
        stepCount += 1
        let t = Double(stepCount)
        // Bias corrections folded into the step size, exactly as torch does.
        let stepSize = Float(Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
        for i in x.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            x[i] -= stepSize * m[i] / (v[i].squareRoot() + epsilon)
        }
        return loss
    }

    public func reset() {
        m = []
        v = []
        stepCount = 0
    }

    /// Layout: learning rate, beta1, beta2, epsilon (Float32), step count (Int64), has-moments flag
    /// (UInt32), then when set the first and second moments (Float32 × count each).
    public func exportState(_ writer: inout StateWriter) {
        for parameter in [learningRate, beta1, beta2, epsilon] { writer.append(parameter) }
        writer.append(stepCount)
        writer.append(UInt32(m.isEmpty ? 0 : 1))
        if !m.isEmpty {
            writer.append(m)
            writer.append(v)
        }
    }

    public func importState(_ reader: inout StateReader, count: Int) throws {
        for (name, own) in [("Adam learning rate", learningRate), ("Adam beta1", beta1), ("Adam beta2", beta2),
                            ("Adam epsilon", epsilon)] {
            try OptimizerChecks.expect(try reader.float(name), equals: own, name)
        }
        let steps = try reader.count("Adam step count")
        var first: [Float] = [], second: [Float] = []
        if try reader.flag("Adam has-moments flag") {
            first = try reader.floats(count, "Adam first moment")
            second = try reader.floats(count, "Adam second moment")
            guard second.allSatisfy({ $0 >= 0 }) else { throw NSTError.invalidArgument("session state's Adam second moment is negative") }
        } else if steps != 0 {
            throw NSTError.invalidArgument("session state's Adam step count is \(steps) without moments")
        }
        m = first
        v = second
        stepCount = steps
    }
}
