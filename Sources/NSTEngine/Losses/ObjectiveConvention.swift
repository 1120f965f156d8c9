/// How the objective normalises its content and style terms (docs/ARCHITECTURE.md, "Objective").
///
/// Both conventions optimise the same function up to constant factors per layer; they differ in how
/// the weights are read. `.neuralStyle` (jcjohnson/neural-style) averages: the content term of a layer
/// is `mean((F − P)²)` and the style term `mean((G/N − A)²)` over the `C·C` entries, `N = C·H·W`.
/// `.coursera` is the Coursera assignment's `J = α J_content + β Σ_l λ_l J_style^[l]` with the
/// normalisations of `TutorialCosts`: `Σ(a_C − a_G)² / (4 n_H n_W n_C)` and
/// `Σ(G_S − G_G)² / (4 n_C² (n_H n_W)²)`, i.e. `1/4` of the neural-style content term and `n_C²/4` of
/// its style term. (Style targets are the Gram matrices per position of the style images, so a style
/// image of another size than the generated one is compared by its statistics, as neural-style does;
/// at the same size this is exactly the tutorial's formula.) The total-variation term is the same in
/// both; the tutorial has none (tv weight 0).
public enum ObjectiveConvention: Sendable, Equatable, CaseIterable {
    case neuralStyle
    case coursera

    /// Factor on a neural-style content term of a layer with `channels × positions` activations that
    /// gives this convention's term.
    func contentScale(channels: Int, positions: Int) -> Float {
        switch self {
        case .neuralStyle:
            return 1
        case .coursera:
            let count = Double(channels) * Double(positions)  // the neural-style mean's divisor
            return Float(count / TutorialCosts.contentNormalization(channels: channels, positions: positions))
        }
    }

    /// Factor on a neural-style style term of a layer with `channels × positions` activations that gives
    /// this convention's term.
    func styleScale(channels: Int, positions: Int) -> Float {
        switch self {
        case .neuralStyle:
            return 1
        case .coursera:
            // neural-style divides Σ(G − G_S)² by C² (the mean) and N² (G/N), N = C·positions
            let n = Double(channels) * Double(positions)
            let divisor = Double(channels) * Double(channels) * n * n
            return Float(divisor / TutorialCosts.layerStyleNormalization(channels: channels, positions: positions))
        }
    }
}
