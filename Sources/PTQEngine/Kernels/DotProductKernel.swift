/// C[m×n] = α·A[m×k]·Bᵀ (+ C), B given as n rows of k: a Linear layer (Gemm with transB = 1) as one
/// dot product per output element.
///
/// Why not SGEMM: at m = 1, which is every sample in the executor's sample-parallel mode and every
/// batch-1 run, OpenBLAS's sgemm ran a classifier's 1000×1280 weight at 6 GFLOP/s and its sgemv at
/// 31–36 (measured here). But a GEMV sums in another order than the SGEMM a whole batch would take,
/// and a result must not depend on the mode (which depends on the core count). Here every element's
/// sum has one order whatever m, the blocking or the split over threads: sixteen lanes, lane l adding
/// the products k ≡ l (mod 16) in increasing k, the lanes then summed by `SIMD16.sum()`, then the
/// k mod 16 leftover products in order. Four rows of B share each load of A's row.
enum DotProductKernel {
    static func run(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, accumulate: Bool) {
        let (left, right, target) = (SendablePointer(UnsafeMutablePointer(mutating: a)),
                                     SendablePointer(UnsafeMutablePointer(mutating: b)), SendablePointer(c))
        // Blocks of 16 rows of B; a worker takes whole blocks when the product pays for waking it.
        let blocks = (n + 15) / 16
        let minimumBlocks = m * n * k >= 1 << 18 ? 1 : blocks
        Parallel.forEachRange(blocks, minimumPerWorker: minimumBlocks) { range in
            let first = range.lowerBound * 16, end = min(n, range.upperBound * 16)
            var column = first
            while column + 4 <= end {
                for row in 0..<m {
                    let x = left.pointer + row * lda, w = right.pointer + column * ldb
                    let out = target.pointer + row * ldc + column
                    let sums = dot4(x, w, w + ldb, w + 2 * ldb, w + 3 * ldb, k: k)
                    for lane in 0..<4 { out[lane] = alpha * sums[lane] + (accumulate ? out[lane] : 0) }
                }
                column += 4
            }
            while column < end {
                for row in 0..<m {
                    let out = target.pointer + row * ldc + column
                    let sum = dot(left.pointer + row * lda, right.pointer + column * ldb, k: k)
                    out[0] = alpha * sum + (accumulate ? out[0] : 0)
                }
                column += 1
            }
        }
    }

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// x·w, in the order the type's comment states.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, k: Int) -> Float {
        var accumulator = SIMD16<Float>()
        var index = 0
        while index + 16 <= k {
            accumulator.addProduct(load(x + index), load(w + index))
            index += 16
        }
        var sum = accumulator.sum()
        while index < k {
            sum += x[index] * w[index]
            index += 1
        }
        return sum
    }

    /// x·w0 … x·w3, each in exactly the order `dot` takes.
    @inline(__always)
    static func dot4(_ x: UnsafePointer<Float>, _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>,
                     _ w2: UnsafePointer<Float>, _ w3: UnsafePointer<Float>, k: Int) -> SIMD4<Float> {
        var (s0, s1, s2, s3) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        var index = 0
        while index + 16 <= k {
            let value = load(x + index)
            s0.addProduct(value, load(w0 + index))
            s1.addProduct(value, load(w1 + index))
            s2.addProduct(value, load(w2 + index))
            s3.addProduct(value, load(w3 + index))
            index += 16
        }
        var sums = SIMD4<Float>(s0.sum(), s1.sum(), s2.sum(), s3.sum())
        while index < k {
            let value = x[index]
            sums[0] += value * w0[index]
            sums[1] += value * w1[index]
            sums[2] += value * w2[index]
            sums[3] += value * w3[index]
            index += 1
        }
        return sums
    }
}
