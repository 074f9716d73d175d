import Foundation

/// A raw pointer handed to concurrent workers that each write their own part.
struct UnsafeMutableSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Errors of concurrent work, the one with the lowest index reported (so the message does not depend on timing).
final class FailureList: @unchecked Sendable {
    private var failures: [(Int, Error)] = []
    private let lock = NSLock()
    func add(_ index: Int, _ error: Error) { lock.withLock { failures.append((index, error)) } }
    var first: (Int, Error)? { lock.withLock { failures.min { $0.0 < $1.0 } } }
    /// Every failure, by index.
    var all: [(Int, Error)] { lock.withLock { failures.sorted { $0.0 < $1.0 } } }
}
