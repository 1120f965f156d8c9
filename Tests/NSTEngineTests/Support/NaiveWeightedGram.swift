/// Direct-loop references of the weighted (masked) Gram matrix and its gradient, in `Double`: slow,
/// obviously correct, what `GramMatrix` and `WeightedPositions` are compared against.
enum NaiveWeightedGram {
    /// `Σ_p w_p f_p f_pᵀ · alpha`.
    static func gram(_ f: [Float], channels c: Int, weights w: [Float], alpha: Double) -> [Double] {
        let positions = w.count
        var gram = [Double](repeating: 0, count: c * c)
        for i in 0..<c {
            for j in 0..<c {
                for p in 0..<positions { gram[i * c + j] += Double(w[p]) * Double(f[i * positions + p]) * Double(f[j * positions + p]) }
                gram[i * c + j] *= alpha
            }
        }
        return gram
    }

    /// `alpha (gradGram + gradGramᵀ) F diag(w)` in Double: d/dF of `Σ gradGram ∘ G` with `G = alpha F diag(w) Fᵀ`.
    static func gradient(_ f: [Float], channels c: Int, gradGram: [Float], weights w: [Float],
                         alpha: Double) -> [Double] {
        let positions = w.count
        var gradient = [Double](repeating: 0, count: c * positions)
        for i in 0..<c {
            for p in 0..<positions {
                var sum = 0.0
                for k in 0..<c { sum += Double(gradGram[i * c + k] + gradGram[k * c + i]) * Double(f[k * positions + p]) }
                gradient[i * positions + p] = alpha * sum * Double(w[p])
            }
        }
        return gradient
    }
}
