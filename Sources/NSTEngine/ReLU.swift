/// Rectified linear unit, `max(x, 0)`, and its backward pass.
public enum ReLU {
    /// `output[i] = max(input[i], 0)`; `input` and `output` may be the same buffer.
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachRange(count) { range in
            for i in range { output[i] = max(input[i], 0) }
        }
    }

    /// `gradInput[i] = gradOutput[i]` where `activation[i] > 0`, else 0.
    ///
    /// `activation` may be the ReLU's input or its output: both are positive at the same places,
    /// which lets the network keep only the output. `gradInput` may alias `gradOutput`.
    public static func backward(activation: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                gradInput: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachRange(count) { range in
            for i in range { gradInput[i] = activation[i] > 0 ? gradOutput[i] : 0 }
        }
    }
}
