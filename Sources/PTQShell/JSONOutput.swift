import Foundation
import PTQEngine

/// JSON files the commands write (`eval`, `sqnr`, `layers --json`). JSON has no infinity or NaN, and
/// Foundation refuses to write them: a non-finite number (the SQNR of outputs identical to FP32 is
/// +inf) is written as null, and `help` says so.
enum JSONOutput {
    static func write(_ object: Any, to path: String, overwrite: Bool) throws {
        let data = try JSONSerialization.data(withJSONObject: sanitized(object), options: [.prettyPrinted, .sortedKeys])
        try writeAtomically(data, to: path, overwrite: overwrite)
    }

    static func sanitized(_ value: Any) -> Any {
        switch value {
        case let number as Double: return number.isFinite ? number : NSNull()
        case let number as Float: return number.isFinite ? Double(number) : NSNull()
        case let array as [Any]: return array.map(sanitized)
        case let dictionary as [String: Any]: return dictionary.mapValues(sanitized)
        default: return value
        }
    }
}
