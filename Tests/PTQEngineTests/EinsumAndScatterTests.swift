import Testing
@testable import PTQEngine

/// What ONNX Runtime's fixtures cannot show: Einsum equations and ScatterND indices that are wrong get an
/// error naming the node and the fault, never a trap (input → expected message, one row per fault).
@Suite struct EinsumAndScatterTests {
    static let einsumFaults: [(equation: String, shapes: [[Int]], expected: String)] = [
        ("ij,jk->ik", [[2, 3]], "names 2 operands; the node has 1 inputs"),
        ("ij->ij", [[2, 3, 4]], "has 2 subscripts for an operand of rank 3"),
        ("i1->i", [[2, 3]], "'1' is not a subscript"),
        ("ij->iz", [[2, 3]], "output subscript 'z' is in no operand"),
        ("ij->ii", [[2, 3]], "repeats a subscript"),
        ("ij,jk->ik", [[2, 3], [4, 5]], "subscript 'j' is 3 long in one operand and 4 in another"),
        ("...i...->i", [[2, 3]], "more than one ellipsis"),
        ("", [[2]], "is not of the form"),
    ]

    @Test(arguments: einsumFaults)
    func einsumFaultIsNamed(_ equation: String, _ shapes: [[Int]], _ expected: String) {
        let node = Node(name: "mix", opType: "Einsum", inputs: shapes.indices.map { "x\($0)" }, outputs: ["y"],
                        attributes: ["equation": .string(equation)])
        let inputs: [Tensor?] = shapes.map { Tensor(zeros: $0) }
        #expect {
            _ = try EinsumOperator.einsum(node, inputs)
        } throws: { error in
            let text = "\(error)"
            return text.contains("mix") && text.contains(expected)
        }
    }

    @Test func einsumBroadcastsSizeOneAndSumsUnusedLabels() throws {
        let node = Node(name: "e", opType: "Einsum", inputs: ["a", "b"], outputs: ["y"], attributes: ["equation": .string("bij,bj->i")])
        let a = Tensor(shape: [1, 2, 3], floats: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [2, 3], floats: [1, 1, 1, 2, 2, 2])
        // y[i] = sum over b, j of a[0, i, j] * b[b, j] = 3 * rowsum(a[0, i])
        let y = try EinsumOperator.einsum(node, [a, b])
        #expect(y.shape == [2] && y.floats == [18, 45])
    }

    /// Found by ptq-fuzz (seed 29): a size-1 axis meeting an empty one took size 1 and read past the empty tensor.
    @Test func sizeOneBroadcastsToAnEmptyAxis() throws {
        let node = Node(name: "e", opType: "Einsum", inputs: ["a", "b"], outputs: ["y"], attributes: ["equation": .string("ij,ij->ij")])
        for (first, second) in [([1, 3], [0, 3]), ([0, 3], [1, 3])] {
            let y = try EinsumOperator.einsum(node, [Tensor(zeros: first), Tensor(zeros: second)])
            #expect(y.shape == [0, 3])
        }
    }

    static let scatterFaults: [(indices: [Int64], indexShape: [Int], updates: [Int], expected: String)] = [
        ([5], [1, 1], [1, 3], "index 5 is out of range for axis 0 of size 2"),
        ([0, 0, 0], [1, 3], [1], "indices address 3 axes of a rank-2 tensor"),
        ([0], [1, 1], [2, 3], "updates is [2, 3]; expected [1, 3]"),
    ]

    @Test(arguments: scatterFaults)
    func scatterFaultIsNamed(_ indices: [Int64], _ indexShape: [Int], _ updates: [Int], _ expected: String) {
        let node = Node(name: "mask", opType: "ScatterND", inputs: ["d", "i", "u"], outputs: ["y"])
        #expect {
            _ = try ScatterOperator.scatterND(node, [Tensor(zeros: [2, 3]), Tensor(shape: indexShape, integers: indices), Tensor(zeros: updates)])
        } throws: { error in
            "\(error)".contains("mask") && "\(error)".contains(expected)
        }
    }

    @Test func integerScatterAddWrapsInsteadOfTrapping() throws {
        let node = Node(name: "s", opType: "ScatterND", inputs: ["d", "i", "u"], outputs: ["y"], attributes: ["reduction": .string("add")])
        let y = try ScatterOperator.scatterND(node, [Tensor(shape: [2], integers: [Int64.max, 1]),
                                                     Tensor(shape: [2, 1], integers: [0, 0]), Tensor(shape: [2], integers: [1, 1])])
        #expect(y.integers == [Int64.min &+ 1, 1])
    }
}
