/// Einsum (opset 12): `Y = einsum(equation, X1, ..., Xn)` over float tensors.
///
/// Math: every subscript letter is an axis; a letter in several operands names one axis of one size (size 1
/// broadcasts, as numpy does); the output holds the letters after `->`, or, without an arrow, the letters
/// that occur once, in alphabetical order, after the ellipsis axes. Letters absent from the output are summed.
/// A letter repeated within one operand takes that operand's diagonal.
///
/// Computed as numpy's `einsum` with `optimize=False` would define it, but never by looping over all letters at
/// once: each operand first takes its diagonals and sums the letters no one else needs; then operands are
/// contracted left to right, each pair as one batched GEMM (shared letters still needed are the batch, shared
/// letters no longer needed the inner dimension), which is what makes attention written as einsum (MaxViT's
/// `B G H I D, B G H J D -> B G H I J`) run at MatMul speed.
enum EinsumOperator {
    static let all: [String: OperatorFunction] = [
        "Einsum": { node, inputs, _ in [try einsum(node, inputs)] },
    ]

    /// An operand mid-computation: its data and one label per axis.
    struct Term {
        var tensor: Tensor
        var labels: [Character]
    }

    static func einsum(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let operands = try (0..<max(inputs.count, 1)).map { try OperatorSupport.required(inputs, $0, node) }
        for (index, operand) in operands.enumerated() where operand.kind != .float {
            throw OperatorSupport.fail(node, "input \(index) holds \(ONNXTensorCoding.typeName(operand.onnxType)) values; ptq's Einsum takes float")
        }
        let equation = try EinsumEquation(node.string("equation", default: ""), ranks: operands.map(\.rank), node)
        var sizes: [Character: Int] = [:]
        for (operand, labels) in zip(operands, equation.inputs) {
            for (axis, label) in labels.enumerated() {
                let size = operand.shape[axis], known = sizes[label] ?? 1
                guard size == known || size == 1 || known == 1 else {
                    throw OperatorSupport.fail(node, "subscript '\(label)' is \(known) long in one operand and \(size) in another")
                }
                sizes[label] = known == 1 ? size : known  // 1 broadcasts to any size, 0 included
            }
        }
        var terms = try zip(operands, equation.inputs).map { operand, labels in
            try diagonal(Term(tensor: operand, labels: labels), sizes: sizes, node)
        }
        for index in terms.indices {
            let needed = Set(equation.output).union(terms.indices.filter { $0 != index }.flatMap { terms[$0].labels })
            terms[index] = sum(terms[index], keeping: needed)
        }
        var result = terms[0]
        for index in 1..<terms.count {
            let needed = Set(equation.output).union(terms[(index + 1)...].flatMap(\.labels))
            result = try contract(result, terms[index], keeping: needed, sizes: sizes, node)
        }
        result = sum(result, keeping: Set(equation.output))
        let order = equation.output.map { label in result.labels.firstIndex(of: label)! }
        return ShapeOperators.transpose(result.tensor, order)
    }

    /// Takes the diagonal of every repeated label and broadcasts size-1 axes to the label's size.
    static func diagonal(_ term: Term, sizes: [Character: Int], _ node: Node) throws -> Term {
        var unique: [Character] = []
        for label in term.labels where !unique.contains(label) { unique.append(label) }
        let broadcasts = zip(term.labels, term.tensor.shape).contains { sizes[$0]! != $1 }
        if unique.count == term.labels.count && !broadcasts { return term }
        let shape = unique.map { sizes[$0]! }
        guard TensorLimits.elementCount(shape) != nil else {
            throw OperatorSupport.fail(node, "an operand broadcast to \(describeShape(shape)) would be too large")
        }
        let sourceStrides = stridesOf(term.tensor.shape)
        // Per unique label, the source stride it advances by (summed over its repeats; 0 where broadcast).
        let strides = unique.map { label in
            term.labels.indices.filter { term.labels[$0] == label && term.tensor.shape[$0] != 1 }
                .map { sourceStrides[$0] }.reduce(0, +)
        }
        return Term(tensor: ShapeOperators.strided(term.tensor, shape: shape, strides: strides), labels: unique)
    }

    /// Sums away the labels not in `keeping`: transposed so kept axes lead, then each row of the rest added up.
    static func sum(_ term: Term, keeping: Set<Character>) -> Term {
        let kept = term.labels.indices.filter { keeping.contains(term.labels[$0]) }
        guard kept.count < term.labels.count else { return term }
        let summed = term.labels.indices.filter { !keeping.contains(term.labels[$0]) }
        let moved = ShapeOperators.transpose(term.tensor, kept + summed)
        let keptShape = kept.map { term.tensor.shape[$0] }
        let rows = keptShape.reduce(1, *), width = summed.map { term.tensor.shape[$0] }.reduce(1, *)
        var values = [Float](repeating: 0, count: rows)
        moved.floats.withUnsafeBufferPointer { source in
            for row in 0..<rows {
                var total: Float = 0
                for column in 0..<width { total += source[row * width + column] }
                values[row] = total
            }
        }
        return Term(tensor: Tensor(shape: keptShape, floats: values), labels: kept.map { term.labels[$0] })
    }

    /// One pairwise contraction as a batched GEMM: [batch, left, inner] × [batch, inner, right].
    static func contract(_ a: Term, _ b: Term, keeping: Set<Character>, sizes: [Character: Int], _ node: Node) throws -> Term {
        let shared = a.labels.filter { b.labels.contains($0) }
        let batch = shared.filter { keeping.contains($0) }, inner = shared.filter { !keeping.contains($0) }
        let left = a.labels.filter { !b.labels.contains($0) }, right = b.labels.filter { !a.labels.contains($0) }
        let size = { (labels: [Character]) in labels.map { sizes[$0]! }.reduce(1, *) }
        let batches = size(batch), m = size(left), k = size(inner), n = size(right)
        let labels = batch + left + right
        guard let count = TensorLimits.elementCount(labels.map { sizes[$0]! }) else {
            throw OperatorSupport.fail(node, "an intermediate product \(describeShape(labels.map { sizes[$0]! })) would be too large")
        }
        let x = ShapeOperators.transpose(a.tensor, (batch + left + inner).map { a.labels.firstIndex(of: $0)! })
        let y = ShapeOperators.transpose(b.tensor, (batch + inner + right).map { b.labels.firstIndex(of: $0)! })
        var output = [Float](repeating: 0, count: count)
        if count > 0 && k > 0 {
            x.floats.withUnsafeBufferPointer { xp in
                y.floats.withUnsafeBufferPointer { yp in
                    output.withUnsafeMutableBufferPointer { op in
                        for index in 0..<batches {
                            sgemm(m: m, n: n, k: k, a: xp.baseAddress! + index * m * k, lda: k,
                                  b: yp.baseAddress! + index * k * n, ldb: n, c: op.baseAddress! + index * m * n, ldc: n)
                        }
                    }
                }
            }
        }
        return Term(tensor: Tensor(shape: labels.map { sizes[$0]! }, floats: output), labels: labels)
    }
}

/// An Einsum equation parsed against its operands' ranks: one label per axis, the ellipsis expanded into
/// labels of its own (right-aligned across operands, as broadcasting aligns them), and the output's labels.
struct EinsumEquation {
    var inputs: [[Character]]
    var output: [Character]

    init(_ text: String, ranks: [Int], _ node: Node) throws {
        let compact = text.filter { !$0.isWhitespace }
        let sides = compact.components(separatedBy: "->")
        guard !compact.isEmpty, sides.count <= 2 else {
            throw OperatorSupport.fail(node, "equation '\(text)' is not of the form 'ab,bc->ac'")
        }
        let terms = sides[0].components(separatedBy: ",")
        guard terms.count == ranks.count else {
            throw OperatorSupport.fail(node, "equation '\(text)' names \(terms.count) operands; the node has \(ranks.count) inputs")
        }
        // The ellipsis spans the axes the letters leave over; its widest use sets how many labels it needs.
        var ellipsisWidths: [Int?] = []
        for (term, rank) in zip(terms, ranks) {
            let letters = try Self.letters(term.replacingOccurrences(of: "...", with: ""), text, node)
            guard term.components(separatedBy: "...").count <= 2 else {
                throw OperatorSupport.fail(node, "equation '\(text)': '\(term)' holds more than one ellipsis")
            }
            let width = rank - letters.count
            guard term.contains("...") ? width >= 0 : width == 0 else {
                throw OperatorSupport.fail(node, "equation '\(text)': '\(term)' has \(letters.count) subscripts for an operand of rank \(rank)")
            }
            ellipsisWidths.append(term.contains("...") ? width : nil)
        }
        let widest = ellipsisWidths.compactMap { $0 }.max() ?? 0
        let ellipsis = (0..<widest).map { Character(Unicode.Scalar(0x2460 + $0)!) }
        inputs = zip(terms, ellipsisWidths).map { term, width in
            guard let width else { return Array(term) }
            let parts = term.components(separatedBy: "...")
            return Array(parts[0]) + ellipsis.suffix(width) + Array(parts[1])
        }
        if sides.count == 2 {
            let parts = sides[1].components(separatedBy: "...")
            let letters = try Self.letters(parts.joined(), text, node)
            guard parts.count <= 2, Set(letters).count == letters.count else {
                throw OperatorSupport.fail(node, "equation '\(text)': the output '\(sides[1])' repeats a subscript or an ellipsis")
            }
            let known = Set(inputs.joined())
            if let stray = letters.first(where: { !known.contains($0) }) {
                throw OperatorSupport.fail(node, "equation '\(text)': output subscript '\(stray)' is in no operand")
            }
            output = parts.count == 2 ? Array(parts[0]) + ellipsis + Array(parts[1]) : letters
        } else {
            let all = inputs.joined().filter { $0.isLetter }
            output = ellipsis + Set(all).filter { label in all.filter { $0 == label }.count == 1 }.sorted()
        }
    }

    private static func letters(_ term: String, _ text: String, _ node: Node) throws -> [Character] {
        guard let bad = term.first(where: { !($0.isASCII && $0.isLetter) }) else { return Array(term) }
        throw OperatorSupport.fail(node, "equation '\(text)': '\(bad)' is not a subscript; expected letters a-z, A-Z and '...'")
    }
}
