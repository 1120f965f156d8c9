// The "Large renders" section of swiftnst.h: strip evaluation and the memory prediction. Each export's
// contract is documented at its declaration in Sources/CSwiftNST/include/swiftnst.h.

import CSwiftNST
import NSTEngine

/// The evaluation strategy named by C arguments: no split layer is the whole image.
func evaluationStrategy(_ splitLayer: UnsafePointer<CChar>?, _ stripRows: Int64) throws -> EvaluationStrategy {
    guard splitLayer != nil else { return .whole }
    guard stripRows >= 0 else { throw BridgeError.invalidArgument("strip_rows must be >= 0, got \(stripRows)") }
    let name = try layerName(splitLayer, "split_layer")
    // The engine checks the layer and the rows' range and alignment; Int64 fits Int on every supported platform.
    return .strips(splitAfter: name, rows: Int(stripRows))
}

@_cdecl("nst_session_set_strips")
public func nst_session_set_strips(_ session: OpaquePointer?, _ splitLayer: UnsafePointer<CChar>?,
                                   _ stripRows: Int64) -> nst_status {
    bridge("nst_session_set_strips") {
        let handle = try SessionHandle.from(session)
        let strategy = try evaluationStrategy(splitLayer, stripRows)
        try handle.withLock { try $0.setStrategy(strategy) }
    }
}

@_cdecl("nst_session_predict_peak_bytes")
public func nst_session_predict_peak_bytes(_ session: OpaquePointer?, _ splitLayer: UnsafePointer<CChar>?,
                                           _ stripRows: Int64, _ lbfgsHistory: Int64,
                                           _ bytesOut: UnsafeMutablePointer<Int64>?) -> nst_status {
    bridge("nst_session_predict_peak_bytes") {
        let handle = try SessionHandle.from(session)
        let out = try required(bytesOut, "bytes_out")
        let strategy = try evaluationStrategy(splitLayer, stripRows)
        guard lbfgsHistory >= 0 else { throw BridgeError.invalidArgument("lbfgs_history must be >= 0, got \(lbfgsHistory)") }
        let prediction = try handle.withLock {
            try $0.predictPeakMemory(strategy: strategy, lbfgsHistory: lbfgsHistory == 0 ? nil : Int(lbfgsHistory))
        }
        out.pointee = Int64(prediction.total)
    }
}
