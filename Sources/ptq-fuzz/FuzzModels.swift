import Foundation
import PTQEngine

/// The small models the fuzzer mutates: each runs a sample in well under a millisecond and, between
/// them, holds every op family the techniques touch (Conv + BatchNorm + ReLU6 chains with a depthwise
/// middle for cle and bias correction; ConvTranspose, pools, Concat, Reshape, MatMul + Add, Gemm).
enum FuzzModels {
    static let all: [(name: String, graph: Graph, inputShape: [Int], classes: Int)] = [
        ("cnn", cnn(), [3, 8, 8], 10),
        ("mixed", mixed(), [4, 6, 6], 10),
        ("sequence", sequence(), [4, 12], 8),
        ("volume", volume(), [2, 4, 6, 6], 6),
    ]

    static func weights(_ shape: [Int], seed: Int) -> Tensor {
        let count = shape.reduce(1, *)
        let values = (0..<count).map { index -> Float in
            let x = sin(Float(index * 7919 + seed * 104_729) * 0.001) * 0.5
            return x
        }
        return Tensor(shape: shape, floats: values)
    }

    static func batchNorm(_ builder: inout GraphBuilder, _ input: String, channels: Int, name: String) -> String {
        let scale = Tensor(shape: [channels], floats: (0..<channels).map { 0.5 + Float($0 % 5) * 0.3 })
        let bias = Tensor(shape: [channels], floats: (0..<channels).map { Float($0 % 3) - 1 })
        let mean = Tensor(shape: [channels], floats: (0..<channels).map { Float($0 % 4) * 0.1 })
        let variance = Tensor(shape: [channels], floats: (0..<channels).map { 1 + Float($0 % 2) })
        return builder.node("BatchNormalization", name: name, inputs: [input],
                            constants: [("\(name).scale", scale), ("\(name).bias", bias),
                                        ("\(name).mean", mean), ("\(name).var", variance)],
                            attributes: ["epsilon": .float(1e-5)])
    }

    /// Conv → BN → ReLU6 (Clip) → depthwise Conv → BN → Relu → 1x1 Conv → BN → MaxPool →
    /// GlobalAveragePool → Flatten → Gemm.
    static func cnn() -> Graph {
        var b = GraphBuilder(input: "x", shape: [nil, 3, 8, 8])
        var t = b.node("Conv", name: "conv1", inputs: ["x"],
                       constants: [("conv1.w", weights([8, 3, 3, 3], seed: 1)), ("conv1.b", weights([8], seed: 2))],
                       attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        t = batchNorm(&b, t, channels: 8, name: "bn1")
        t = b.node("Clip", name: "relu6", inputs: [t],
                   constants: [("clip.min", .scalar(0)), ("clip.max", .scalar(6))])
        t = b.node("Conv", name: "dw", inputs: [t],
                   constants: [("dw.w", weights([8, 1, 3, 3], seed: 3)), ("dw.b", weights([8], seed: 4))],
                   attributes: ["group": .int(8), "kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1]),
                                "strides": .ints([2, 2])])
        t = batchNorm(&b, t, channels: 8, name: "bn2")
        t = b.node("Relu", name: "relu", inputs: [t])
        t = b.node("Conv", name: "pw", inputs: [t], constants: [("pw.w", weights([16, 8, 1, 1], seed: 5))],
                   attributes: ["kernel_shape": .ints([1, 1])])
        t = batchNorm(&b, t, channels: 16, name: "bn3")
        t = b.node("MaxPool", name: "maxpool", inputs: [t],
                   attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        t = b.node("GlobalAveragePool", name: "gap", inputs: [t])
        t = b.node("Flatten", name: "flatten", inputs: [t], attributes: ["axis": .int(1)])
        t = b.node("Gemm", name: "fc", inputs: [t],
                   constants: [("fc.w", weights([10, 16], seed: 6)), ("fc.b", weights([10], seed: 7))],
                   attributes: ["transB": .int(1)])
        return b.finish(output: t, shape: [nil, 10])
    }

    /// Conv → Relu → ConvTranspose (stride 2) → AveragePool → Concat with the input → Reshape →
    /// MatMul → Add → Softmax.
    static func mixed() -> Graph {
        var b = GraphBuilder(input: "x", shape: [nil, 4, 6, 6])
        var t = b.node("Conv", name: "conv", inputs: ["x"],
                       constants: [("conv.w", weights([8, 4, 3, 3], seed: 8)), ("conv.b", weights([8], seed: 9))],
                       attributes: ["pads": .ints([1, 1, 1, 1])])
        t = b.node("Relu", name: "relu", inputs: [t])
        t = b.node("ConvTranspose", name: "up", inputs: [t],
                   constants: [("up.w", weights([8, 4, 2, 2], seed: 10)), ("up.b", weights([4], seed: 11))],
                   attributes: ["strides": .ints([2, 2])])
        t = b.node("AveragePool", name: "avgpool", inputs: [t],
                   attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        t = b.node("Concat", name: "concat", inputs: [t, "x"], attributes: ["axis": .int(1)])
        t = b.node("Reshape", name: "reshape", inputs: [t],
                   constants: [("reshape.shape", Tensor(shape: [2], integers: [0, -1]))])
        t = b.node("MatMul", name: "matmul", inputs: [t], constants: [("matmul.w", weights([288, 10], seed: 12))])
        t = b.node("Add", name: "add", inputs: [t], constants: [("add.b", weights([10], seed: 13))])
        t = b.node("Softmax", name: "softmax", inputs: [t], attributes: ["axis": .int(1)])
        return b.finish(output: t, shape: [nil, 10])
    }
}

extension FuzzModels {
    /// Audio-like 1-D: Conv → Relu → depthwise Conv → Relu → Transpose → self-attention as Einsum, with a
    /// ScatterND-built mask and a Mod → Softmax → Einsum → ReduceMean.
    static func sequence() -> Graph {
        var b = GraphBuilder(input: "x", shape: [nil, 4, 12])
        var t = b.node("Conv", name: "conv", inputs: ["x"],
                       constants: [("conv.w", weights([8, 4, 3], seed: 14)), ("conv.b", weights([8], seed: 15))],
                       attributes: ["kernel_shape": .ints([3]), "pads": .ints([1, 1])])
        t = b.node("Relu", name: "relu1", inputs: [t])
        t = b.node("Conv", name: "dw", inputs: [t], constants: [("dw.w", weights([8, 1, 3], seed: 16))],
                   attributes: ["group": .int(8), "kernel_shape": .ints([3]), "pads": .ints([1, 1])])
        t = b.node("Relu", name: "relu2", inputs: [t])
        let tokens = b.node("Transpose", name: "tokens", inputs: [t], attributes: ["perm": .ints([0, 2, 1])])
        var scores = b.node("Einsum", name: "scores", inputs: [tokens, tokens], attributes: ["equation": .string("bic,bjc->bij")])
        let mask = b.node("ScatterND", name: "mask", inputs: [],
                          constants: [("mask.data", Tensor(zeros: [12, 12])), ("mask.rows", Tensor(shape: [2, 1], integers: [3, 5])),
                                      ("mask.updates", Tensor(shape: [2, 12], floats: [Float](repeating: -4, count: 24)))])
        scores = b.node("Add", name: "masked", inputs: [scores, mask])
        scores = b.node("Mod", name: "wrap", inputs: [scores], constants: [("wrap.by", .scalar(5))], attributes: ["fmod": .int(1)])
        scores = b.node("Softmax", name: "softmax", inputs: [scores], attributes: ["axis": .int(2)])
        t = b.node("Einsum", name: "mix", inputs: [scores, tokens], attributes: ["equation": .string("bij,bjc->bic")])
        t = b.node("ReduceMean", name: "pool", inputs: [t], attributes: ["axes": .ints([1]), "keepdims": .int(0)])
        return b.finish(output: t, shape: [nil, 8])
    }

    /// Video-like 3-D: Conv → BN → Relu → MaxPool → Conv → Relu → GlobalAveragePool → Flatten → Gemm.
    static func volume() -> Graph {
        var b = GraphBuilder(input: "x", shape: [nil, 2, 4, 6, 6])
        var t = b.node("Conv", name: "conv1", inputs: ["x"],
                       constants: [("conv1.w", weights([6, 2, 3, 3, 3], seed: 17)), ("conv1.b", weights([6], seed: 18))],
                       attributes: ["kernel_shape": .ints([3, 3, 3]), "pads": .ints([1, 1, 1, 1, 1, 1])])
        t = batchNorm(&b, t, channels: 6, name: "bn1")
        t = b.node("Relu", name: "relu1", inputs: [t])
        t = b.node("MaxPool", name: "pool", inputs: [t], attributes: ["kernel_shape": .ints([2, 2, 2]), "strides": .ints([2, 2, 2])])
        t = b.node("Conv", name: "conv2", inputs: [t], constants: [("conv2.w", weights([6, 6, 1, 3, 3], seed: 19))],
                   attributes: ["kernel_shape": .ints([1, 3, 3]), "pads": .ints([0, 1, 1, 0, 1, 1])])
        t = b.node("Relu", name: "relu2", inputs: [t])
        t = b.node("GlobalAveragePool", name: "gap", inputs: [t])
        t = b.node("Flatten", name: "flatten", inputs: [t], attributes: ["axis": .int(1)])
        t = b.node("Gemm", name: "fc", inputs: [t],
                   constants: [("fc.w", weights([6, 6], seed: 20)), ("fc.b", weights([6], seed: 21))], attributes: ["transB": .int(1)])
        return b.finish(output: t, shape: [nil, 6])
    }
}

/// Builds a Graph node by node; each node's output is named after the node.
struct GraphBuilder {
    var graph: Graph

    init(input: String, shape: [Int?]) {
        graph = Graph(name: "fuzz", nodes: [], inputs: [ValueInfo(name: input, shape: shape)], outputs: [])
    }

    mutating func node(_ op: String, name: String, inputs: [String], constants: [(String, Tensor)] = [],
                       attributes: [String: Attribute] = [:]) -> String {
        for (constantName, tensor) in constants { graph.setInitializer(constantName, tensor) }
        let output = "\(name).out"
        graph.nodes.append(Node(name: name, opType: op, inputs: inputs + constants.map(\.0), outputs: [output],
                                attributes: attributes))
        return output
    }

    func finish(output: String, shape: [Int?]) -> Graph {
        var result = graph
        result.outputs = [ValueInfo(name: output, shape: shape)]
        return result
    }
}
