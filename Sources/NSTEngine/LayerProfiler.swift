// Opt-in timing of the network's layer passes, read by bench/profile_engine.py.
//
// Set SWIFTNST_PROFILE=1 in the environment and the process prints to stderr at exit, e.g.
//   swiftnst-profile winograd.forward calls=16 seconds=0.412
// for the wall time of Winograd forward passes and input gradients, and for their three phases
// (input_transform, products, output_transform) the time summed over the worker threads, so on two
// busy cores the phases add up to about twice the wall time. Calls handed to im2col (narrow planes)
// are counted as im2col.forward / im2col.backward_input. The non-convolution layers of FeatureNetwork
// (relu.forward, relu.backward, pool.forward, pool.backward), the Gram matrices (gram.forward,
// gram.backward), the loss terms (loss.forward: content, style and tv losses, their Gram matrices
// included; loss.backward: their gradients, Gram backward included) and the optimiser's parts of a
// session step (session.step, session.step_evaluation: the objective inside it, lbfgs.pairs: storing the
// curvature pair, lbfgs.direction: the two-loop recursion) are timed too (wall time; nested sections
// count inside their parents), so one profile covers every layer type and the whole step. The step's
// sections also print each call's time (`each=0.512,0.498,...`, in call order).
// Off by default; when off a measurement costs one check of a constant.

import Dispatch
import Glibc
import Synchronization

/// The process-wide timers behind `SWIFTNST_PROFILE=1` (see the comment at the top of this file).
enum LayerProfiler {
    enum Section: Int, CaseIterable {
        case forward, backwardInput, inputTransform, products, outputTransform
        case im2colForward, im2colBackwardInput
        case reluForward, reluBackward, poolForward, poolBackward
        case gramForward, gramBackward, lossForward, lossBackward
        case step, stepEvaluation, lbfgsPairs, lbfgsDirection

        var name: String {
            switch self {
            case .forward: "winograd.forward"
            case .backwardInput: "winograd.backward_input"
            case .inputTransform: "winograd.input_transform"
            case .products: "winograd.products"
            case .outputTransform: "winograd.output_transform"
            case .im2colForward: "im2col.forward"
            case .im2colBackwardInput: "im2col.backward_input"
            case .reluForward: "relu.forward"
            case .reluBackward: "relu.backward"
            case .poolForward: "pool.forward"
            case .poolBackward: "pool.backward"
            case .gramForward: "gram.forward"
            case .gramBackward: "gram.backward"
            case .lossForward: "loss.forward"
            case .lossBackward: "loss.backward"
            case .step: "session.step"
            case .stepEvaluation: "session.step_evaluation"
            case .lbfgsPairs: "lbfgs.pairs"
            case .lbfgsDirection: "lbfgs.direction"
            }
        }

        /// The step's sections also keep each call's time: a step's cost depends on the L-BFGS pairs held,
        /// so a profile wants the steps after the history filled, not the average over the run.
        var keepsEachCall: Bool { rawValue >= Section.step.rawValue }
    }

    static let isEnabled: Bool = {
        guard let variable = getenv("SWIFTNST_PROFILE") else { return false }
        let value = String(cString: variable)
        guard !value.isEmpty, value != "0" else { return false }
        atexit { LayerProfiler.report() }
        return true
    }()

    private static let nanoseconds = Mutex([Int](repeating: 0, count: Section.allCases.count))
    private static let calls = Mutex([Int](repeating: 0, count: Section.allCases.count))
    private static let eachCall = Mutex([[Int]](repeating: [], count: Section.allCases.count))

    /// Runs `body`, adding its wall time to `section` when profiling is enabled.
    @inline(__always)
    static func measure<R>(_ section: Section, _ body: () throws -> R) rethrows -> R {
        guard isEnabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let elapsed = Int(DispatchTime.now().uptimeNanoseconds - start)
            nanoseconds.withLock { $0[section.rawValue] += elapsed }
            calls.withLock { $0[section.rawValue] += 1 }
            if section.keepsEachCall { eachCall.withLock { $0[section.rawValue].append(elapsed) } }
        }
        return try body()
    }

    /// Totals so far, by section name: (calls, seconds).
    static func totals() -> [String: (calls: Int, seconds: Double)] {
        let ns = nanoseconds.withLock { $0 }, n = calls.withLock { $0 }
        var result: [String: (calls: Int, seconds: Double)] = [:]
        for section in Section.allCases {
            result[section.name] = (n[section.rawValue], Double(ns[section.rawValue]) / 1e9)
        }
        return result
    }

    /// `seconds` (>= 0) with six decimals, as `%.6f` prints it.
    static func microsecondDecimal(_ seconds: Double) -> String {
        let microseconds = Int((seconds * 1e6).rounded())
        let fraction = String(microseconds % 1_000_000)
        return "\(microseconds / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    private static func report() {
        let each = eachCall.withLock { $0 }
        for section in Section.allCases {
            let (count, seconds) = totals()[section.name]!
            var line = "swiftnst-profile \(section.name) calls=\(count) seconds=\(microsecondDecimal(seconds))"
            if section.keepsEachCall {
                line += " each=" + each[section.rawValue].map { microsecondDecimal(Double($0) / 1e9) }.joined(separator: ",")
            }
            _ = Array((line + "\n").utf8).withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
    }
}
