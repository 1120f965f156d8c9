/// Every failure the engine reports. CBridge maps each case to one `nst_status` code, so cases are
/// only ever appended; the associated string is the human-readable reason returned by `nst_last_error()`.
public enum NSTError: Error, Equatable, Sendable {
    case invalidArgument(String)
    case shape(String)
    case unknownLayer(String)
    case io(String)
    case weightsFormat(String)
    case state(String)
    case cancelled
    case outOfMemory(String)
    case numeric(String)
    case internalError(String)

    /// The reason, suitable for showing to a user.
    public var message: String {
        switch self {
        case .invalidArgument(let m), .shape(let m), .io(let m), .weightsFormat(let m),
             .state(let m), .outOfMemory(let m), .numeric(let m), .internalError(let m):
            return m
        case .unknownLayer(let name):
            return "unknown layer '\(name)'"
        case .cancelled:
            return "cancelled by the progress callback"
        }
    }
}
