// Times the engine's L-BFGS step without the network: the optimiser's own work per step (storing the
// curvature pair, the two-loop direction over the history, the move) on a cheap objective of an image's
// size, after the history has filled: wall time and the CPU time of all the process's threads. For the part of a render's step that is not the evaluation
// (bench/RESULTS.md, "What an L-BFGS step costs besides its evaluation").
//
//     swift run -c release -Xswiftc -target-cpu -Xswiftc skylake-avx512 \
//         StepBench [--size 512] [--history 100] [--steps 20] [--threads 2] [--storage float32|bfloat16]
//
// The objective is the separable quadratic Σ a_j (x_j − 1)² / 2 with a_j spread over 1...100 (a
// condition number like an image objective's, so L-BFGS keeps accepting pairs); its evaluation is one
// pass over the image, far below the optimiser's 2 · history passes.

import BenchSupport
import Foundation
import NSTEngine

struct Options {
    var size = 512
    var history = 100
    var steps = 20
    var threads = 2
    var storage = LBFGSStorage.float32

    init(_ arguments: [String]) {
        let flags = CommandLineFlags(program: "StepBench", usage: "the comment at the top of bench/step/main.swift")
        flags.read(arguments) { flag, value in
            switch flag {
            case "--size": size = flags.integer(flag, value)
            case "--history": history = flags.integer(flag, value)
            case "--steps": steps = flags.integer(flag, value)
            case "--threads": threads = flags.integer(flag, value)
            case "--storage" where value == "float32": storage = .float32
            case "--storage" where value == "bfloat16": storage = .bfloat16
            default: return false
            }
            return true
        }
        guard size >= 1, history >= 1, steps >= 1, threads >= 1 else {
            flags.fail("--size, --history, --steps and --threads must be >= 1")
        }
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let count = 3 * options.size * options.size
let curvature: [Float] = (0..<count).map { j in
    let spread = Float((j &* 7919) % 1000) / 999
    return 1 + 99 * spread
}
func objective(_ x: [Float]) -> (loss: Double, gradient: [Float]) {
    var loss = 0.0
    var gradient = [Float](repeating: 0, count: count)
    for j in 0..<count {
        let d = x[j] - 1
        gradient[j] = curvature[j] * d
        loss += Double(curvature[j] * d * d) / 2
    }
    return (loss, gradient)
}

/// Seconds of CPU time used by the whole process so far (all threads): on a shared machine less
/// disturbed by other processes than wall time, which also counts the time spent waiting for a core.
func processSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func wallSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

let lbfgs = try LBFGS(historySize: options.history, storage: options.storage)
var x = [Float](repeating: 0, count: count)
var wall: [Double] = [], cpu: [Double] = []
try Parallel.withThreadCount(options.threads) {
    for step in 0..<(options.history + 1 + options.steps) {
        var inObjective = (wall: 0.0, cpu: 0.0)
        let start = (wall: wallSeconds(), cpu: processSeconds())
        _ = try lbfgs.step(&x) { x in
            let begin = (wall: wallSeconds(), cpu: processSeconds())
            defer { inObjective = (wallSeconds() - begin.wall, processSeconds() - begin.cpu) }
            return objective(x)
        }
        if step > options.history {
            wall.append(wallSeconds() - start.wall - inObjective.wall)
            cpu.append(processSeconds() - start.cpu - inObjective.cpu)
        }
    }
}

func summary(_ seconds: [Double]) -> String {
    let sorted = seconds.sorted()
    return String(format: "median %.1f ms, min %.1f ms", 1e3 * sorted[sorted.count / 2], 1e3 * sorted[0])
}
print("L-BFGS step without its objective, \(count) values, history \(options.history) (\(options.storage)), "
      + "\(options.threads) threads, \(wall.count) steps: wall \(summary(wall)); CPU time of all threads \(summary(cpu))")
