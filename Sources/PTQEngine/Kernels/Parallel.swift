import Dispatch
import Foundation

/// Runs `body` over 0..<count split into contiguous ranges, one per worker thread.
/// OpenBLAS runs single-threaded (see `BLAS`) because ptq splits work itself.
public enum Parallel {
    nonisolated(unsafe) private static var configured = false
    public static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    public static func configure() {
        if configured { return }
        configured = true
        // Open OpenBLAS now, on the planning thread: its setenv must not race a worker's getenv.
        _ = BLAS.sgemm
        #if os(Linux)
        // Activation tensors are large and short-lived. glibc would serve each from a fresh mmap and
        // return it on free, so every op page-faults its output in again; keeping them in the heap
        // lets freed buffers be reused (measured: several times faster on batch-32 MobileNetV2).
        // mallopt is looked up at run time: Glibc's Swift module does not export malloc.h.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            _ = mallopt(-3, 1 << 30)  // M_MMAP_THRESHOLD
            _ = mallopt(-1, 1 << 30)  // M_TRIM_THRESHOLD
        }
        #endif
    }

    /// Marks the calling thread as one of several running whole samples side by side (the
    /// executor's sample-parallel mode), so kernels it calls stay on that thread instead of
    /// splitting work a second time.
    private static let serialKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var isSerialThread: Bool { pthread_getspecific(serialKey) != nil }
    /// Threads a kernel called from here may use.
    static var available: Int { isSerialThread ? 1 : workers }

    /// Runs `body` once on each of `workers` threads, each marked serial.
    static func onEachWorkerSerially(_ body: @Sendable () -> Void) {
        let key = serialKey
        forEachRange(workers) { _ in
            let previous = pthread_getspecific(key)
            pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
            defer { pthread_setspecific(key, previous) }
            body()
        }
    }

    /// Runs `body(part)` for part in 0..<parts, one part per worker thread, each thread marked serial (kernels it
    /// calls stay on it): for work split by the caller into a fixed number of parts, so results do not depend on
    /// how the threads are scheduled.
    static func forEachPartSerially(_ parts: Int, _ body: @Sendable (Int) -> Void) {
        let key = serialKey
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let previous = pthread_getspecific(key)
            pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
            defer { pthread_setspecific(key, previous) }
            body(part)
        }
    }

    public static func forEachRange(_ count: Int, minimumPerWorker: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = isSerialThread ? 1 : min(workers, max(1, count / max(1, minimumPerWorker)))
        if parts == 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = count * part / parts
            let end = count * (part + 1) / parts
            if start < end { body(start..<end) }
        }
    }
}

/// A raw pointer that may cross into concurrent closures; each task writes a disjoint region.
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// y[m×n] = a[m×k] · b[k×n] (+ y when accumulate), row-major, with leading dimensions.
@inline(__always)
func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
           b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
           c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0) {
    BLAS.sgemm(BLAS.rowMajor, transposeA ? BLAS.transpose : BLAS.noTranspose,
               transposeB ? BLAS.transpose : BLAS.noTranspose,
               Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `sgemm` with the columns of B and C split over the worker threads when the product is large enough to
/// pay for waking them: a classifier's Gemm at batch 1 (m = 1) otherwise runs on one core.
func sgemmSplittingColumns(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                           b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                           c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0) {
    let parts = m * n * k >= 1 << 20 ? min(Parallel.available, n / 64) : 1
    guard parts > 1 else {
        sgemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
              c: c, ldc: ldc, alpha: alpha, beta: beta)
        return
    }
    let (left, right, target) = (SendablePointer(UnsafeMutablePointer(mutating: a)), SendablePointer(UnsafeMutablePointer(mutating: b)),
                                 SendablePointer(c))
    Parallel.forEachRange(parts) { range in
        for part in range {
            // Boundaries at multiples of 16 columns (the SGEMM kernel's block): the same bits on any core count.
            let start = n * part / parts / 16 * 16, end = part + 1 == parts ? n : n * (part + 1) / parts / 16 * 16
            if end <= start { continue }
            // Column j of op(B) starts at row j of a transposed B, at column j of a plain one.
            let columns = UnsafePointer(right.pointer + (transposeB ? start * ldb : start))
            sgemm(m: m, n: end - start, k: k, a: UnsafePointer(left.pointer), lda: lda, transposeA: transposeA, b: columns, ldb: ldb,
                  transposeB: transposeB, c: target.pointer + start, ldc: ldc, alpha: alpha, beta: beta)
        }
    }
}
