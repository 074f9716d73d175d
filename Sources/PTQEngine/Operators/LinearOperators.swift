/// Gemm (Y = α·A'·B' + β·C) and MatMul (numpy matmul semantics), through SGEMM, except Gemm's A·Bᵀ (`DotProductKernel`).
enum LinearOperators {
    static let all: [String: OperatorFunction] = [
        "Gemm": { node, inputs, _ in [try gemm(node, inputs)] },
        "MatMul": { node, inputs, _ in [try matmul(node, inputs)] },
    ]

    static func gemm(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let a = try OperatorSupport.required(inputs, 0, node)
        let b = try OperatorSupport.required(inputs, 1, node)
        let transA = node.int("transA", default: 0) != 0
        let transB = node.int("transB", default: 0) != 0
        let alpha = node.float("alpha", default: 1)
        let beta = node.float("beta", default: 1)
        guard a.rank == 2, b.rank == 2 else {
            throw OperatorSupport.fail(node, "Gemm needs 2-D A and B; got \(describeShape(a.shape)) and \(describeShape(b.shape))")
        }
        let m = transA ? a.shape[1] : a.shape[0]
        let k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0]
        guard k == kb else {
            throw OperatorSupport.fail(node, "A \(describeShape(a.shape)) and B \(describeShape(b.shape)) do not multiply (transA \(transA ? 1 : 0), transB \(transB ? 1 : 0))")
        }
        guard TensorLimits.elementCount([m, n]) != nil else {
            throw OperatorSupport.fail(node, "output [\(m), \(n)] would hold more than \(TensorLimits.maximumElements) elements")
        }
        var output = [Float](repeating: 0, count: m * n)
        var accumulate: Float = 0
        if let c = OperatorSupport.optional(inputs, 2), beta != 0 {
            let broadcast = try ElementwiseOperators.broadcast(c, to: [m, n], node)
            for index in 0..<(m * n) { output[index] = beta * broadcast[index] }
            accumulate = 1
        }
        // An empty A or B has no data pointer to hand the BLAS: the product is zero (or empty).
        if m == 0 || n == 0 || k == 0 { return Tensor(shape: [m, n], floats: output) }
        a.floats.withUnsafeBufferPointer { ap in
            b.floats.withUnsafeBufferPointer { bp in
                output.withUnsafeMutableBufferPointer { op in
                    // A Linear layer (torch exports it as transB = 1) as dot products: see `DotProductKernel`.
                    if transB && !transA {
                        DotProductKernel.run(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k,
                                             c: op.baseAddress!, ldc: n, alpha: alpha, accumulate: accumulate != 0)
                        return
                    }
                    sgemmSplittingColumns(m: m, n: n, k: k, a: ap.baseAddress!, lda: a.shape[1], transposeA: transA,
                          b: bp.baseAddress!, ldb: b.shape[1], transposeB: transB,
                          c: op.baseAddress!, ldc: n, alpha: alpha, beta: accumulate)
                }
            }
        }
        return Tensor(shape: [m, n], floats: output)
    }

    static func matmul(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        var a = try OperatorSupport.required(inputs, 0, node)
        var b = try OperatorSupport.required(inputs, 1, node)
        guard a.rank >= 1, b.rank >= 1 else {
            throw OperatorSupport.fail(node, "MatMul needs inputs of rank 1 or more; got \(describeShape(a.shape)) and \(describeShape(b.shape))")
        }
        let promotedA = a.rank == 1, promotedB = b.rank == 1
        if promotedA { a = a.reshaped([1, a.count]) }
        if promotedB { b = b.reshaped([b.count, 1]) }
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let kb = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        guard k == kb else {
            throw OperatorSupport.fail(node, "shapes \(describeShape(a.shape)) and \(describeShape(b.shape)) do not multiply")
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batchShape = try ElementwiseOperators.broadcastShape(batchA, batchB, node)
        let batches = batchShape.reduce(1, *)
        let countA = batchA.reduce(1, *), countB = batchB.reduce(1, *)
        guard countA == 1 || countA == batches, countB == 1 || countB == batches else {
            throw OperatorSupport.fail(node, "ptq broadcasts MatMul batch dimensions only when one side has a single batch")
        }
        guard let count = TensorLimits.elementCount(batchShape + [m, n]) else {
            throw OperatorSupport.fail(node, "output would hold more than \(TensorLimits.maximumElements) elements")
        }
        var output = [Float](repeating: 0, count: count)
        var shape = batchShape + [m, n]
        if promotedA { shape.remove(at: shape.count - 2) }
        if promotedB { shape.removeLast() }
        if count == 0 || k == 0 { return Tensor(shape: shape, floats: output) }
        a.floats.withUnsafeBufferPointer { ap in
            b.floats.withUnsafeBufferPointer { bp in
                output.withUnsafeMutableBufferPointer { op in
                    if countB == 1 {
                        // One weight matrix: fold every batch of A into the rows of a single GEMM.
                        sgemmSplittingColumns(m: batches * m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n,
                              c: op.baseAddress!, ldc: n)
                        return
                    }
                    for batch in 0..<batches {
                        let aOffset = countA == 1 ? 0 : batch * m * k
                        sgemm(m: m, n: n, k: k, a: ap.baseAddress! + aOffset, lda: k,
                              b: bp.baseAddress! + batch * k * n, ldb: n, c: op.baseAddress! + batch * m * n, ldc: n)
                    }
                }
            }
        }
        return Tensor(shape: shape, floats: output)
    }
}
