// The `--flag value` command lines of the Swift bench executables (LayerBench, StepBench).

import Foundation

/// A bench executable's `--flag value` pairs, read in order; mistakes end the process with status 2 and
/// a message naming the program.
public struct CommandLineFlags {
    private let program: String
    private let usage: String

    /// - Parameters:
    ///   - program: the executable's name, first in every message.
    ///   - usage: where the options are described, named when a flag is unknown.
    public init(program: String, usage: String) {
        (self.program, self.usage) = (program, usage)
    }

    /// Calls `apply(flag, value)` for each pair of `arguments`; `apply` returns false for a flag (or value)
    /// it does not know.
    public func read(_ arguments: [String], _ apply: (String, String) -> Bool) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { fail("\(flag) needs a value") }
            guard apply(flag, value) else { fail("unknown option \(flag) \(value); see \(usage)") }
        }
    }

    /// `value` as an integer, or the end of the process naming `flag`.
    public func integer(_ flag: String, _ value: String) -> Int {
        guard let number = Int(value) else { fail("\(flag) takes an integer, got \(value)") }
        return number
    }

    public func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
        exit(2)
    }
}
