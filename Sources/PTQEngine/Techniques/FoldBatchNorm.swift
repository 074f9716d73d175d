import Foundation

/// fold-bn — fold BatchNormalization into the adjacent Conv, ConvTranspose or Gemm.
///
/// Backward fold (layer → BN), σ = sqrt(var + ε):
///   W'[o] = W[o]·γ[o]/σ[o],   b'[o] = β[o] + (b[o] − μ[o])·γ[o]/σ[o]
/// A layer without a bias gets one. The layer keeps its own output name; the BN's readers read it.
/// Forward fold (BN → Conv with no padding and group 1, or BN → Gemm, also through Flatten/Reshape),
/// for BNs with no layer before them: W'[:, i] = W[:, i]·γ[i]/σ[i], b' = b + Σ_i W[:, i]·(β[i] − μ[i]·γ[i]/σ[i]).
/// Never into a padded or grouped Conv (padding would be shifted by the BN's offset) or ConvTranspose.
/// Backward folds take priority; each BN folds once.
///
/// Applies only to directly adjacent pairs where the layer's output has the BN as its single reader,
/// and the weights and BN parameters are initializers used by no other node. A BN that cannot fold
/// stays, and the report says why.
///
/// The BN statistics of backward folds (γ, β) are kept with the layer (the layer's output is then
/// distributed with mean β and std |γ|), for high-bias fold and analytical bias correction, and
/// kept in step by later passes (cross-layer scaling divides them by the scale, high-bias fold
/// subtracts what it absorbed). AIMET uses the unscaled pre-fold values there; keeping them in step
/// is a deliberate fix. Nagel et al. 2019, sections 4.2–4.3.
public struct FoldBatchNorm: Technique {
    public init() {}
    public let name = "fold-bn"
    public let summary = "fold BatchNormalization into neighbouring Conv/ConvTranspose/Gemm layers, keeping its statistics"
    public var specification: String { Self.documentation }
    public let options: [(String, String?, String)] = []

    static let documentation = """
    fold-bn: fold BatchNormalization into the adjacent Conv, ConvTranspose or Gemm.
    Backward (layer -> BN), sigma = sqrt(var + eps): W'[o] = W[o]*gamma[o]/sigma[o],
      b'[o] = beta[o] + (b[o] - mean[o])*gamma[o]/sigma[o]; a layer without bias gets one; the layer keeps its
      output name and the BN's readers read it.
    Forward (BN -> Conv without padding and group 1, or BN -> [Flatten|Reshape ->] Gemm), for BNs with no layer
      before them: W'[:, i] = W[:, i]*gamma[i]/sigma[i], b' = b + sum_i W[:, i]*(beta[i] - mean[i]*gamma[i]/sigma[i]).
      Never into padded or grouped convs, never into ConvTranspose. Backward folds take priority.
    Only directly adjacent, single-reader pairs with unshared initializers; a BN that cannot fold stays and the
    report says why. The statistics (gamma, beta) of backward folds are kept with the layer for high-bias fold and
    analytical bias correction, kept in step by later passes (AIMET uses the unscaled pre-fold values: ours is a
    deliberate fix). Nagel et al. 2019, sections 4.2-4.3.
    """

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var graph = input
        var report = TechniqueReport(technique: name)
        var index = 0
        while index < graph.nodes.count {
            let node = graph.nodes[index]
            guard node.opType == "BatchNormalization" else { index += 1; continue }
            switch foldBackward(&graph, batchNorm: index) {
            case .success(let message):
                report.changed.append(message)
                continue  // the BN was removed; the same index now holds the next node
            case .failure(let reason):
                switch foldForward(&graph, batchNorm: index) {
                case .success(let message):
                    report.changed.append(message)
                    continue
                case .failure(let forwardReason):
                    report.skipped.append("\(node.name): \(reason.text); \(forwardReason.text)")
                }
            }
            index += 1
        }
        graph.removeUnusedInitializers()
        if report.changed.isEmpty && report.skipped.isEmpty { report.notes.append("no BatchNormalization nodes") }
        return (graph, report)
    }

    struct Reason: Error { var text: String }

    /// γ/σ and the BN's parameters, if they are all initializers of the right size.
    func parameters(_ graph: Graph, _ node: Node) -> (scale: [Float], gamma: [Float], beta: [Float], mean: [Float])? {
        guard node.inputs.count >= 5 else { return nil }
        let tensors = node.inputs[1...4].map { graph.initializers[$0] }
        guard tensors.allSatisfy({ $0 != nil }) else { return nil }
        let (gamma, beta, mean, variance) = (tensors[0]!.asFloats, tensors[1]!.asFloats, tensors[2]!.asFloats, tensors[3]!.asFloats)
        guard Set([gamma.count, beta.count, mean.count, variance.count]).count == 1 else { return nil }
        let epsilon = node.float("epsilon", default: 1e-5)
        let scale = zip(gamma, variance).map { $0 / sqrtf($1 + epsilon) }
        return (scale, gamma, beta, mean)
    }

    func foldBackward(_ graph: inout Graph, batchNorm index: Int) -> Result<String, Reason> {
        let bn = graph.nodes[index]
        guard let producerIndex = graph.producers()[bn.inputs[0]] else { return .failure(Reason(text: "no layer before it")) }
        let layerNode = graph.nodes[producerIndex]
        guard let layer = WeightLayer.make(layerNode, index: producerIndex, graph: graph), layer.opType != "MatMul" else {
            return .failure(Reason(text: "its input comes from \(layerNode.opType) '\(layerNode.name)', not a Conv/ConvTranspose/Gemm with constant weights"))
        }
        if layer.opType == "ConvTranspose" && layerNode.int("group", default: 1) != 1 {
            return .failure(Reason(text: "grouped ConvTranspose '\(layerNode.name)'"))
        }
        guard graph.readerCount(of: bn.inputs[0]) == 1 else {
            return .failure(Reason(text: "'\(layerNode.name)' output has other readers"))
        }
        guard let (scale, gamma, beta, mean) = parameters(graph, bn) else { return .failure(Reason(text: "its parameters are not constant")) }
        guard graph.readers(ofInitializer: layer.weightName) == 1, layer.biasName.map({ graph.readers(ofInitializer: $0) == 1 }) ?? true else {
            return .failure(Reason(text: "'\(layerNode.name)' shares its weights with another node"))
        }
        var weight = graph.initializers[layer.weightName]!
        let channels = weight.shape[layer.outputChannelAxis]
        guard channels == scale.count else {
            return .failure(Reason(text: "\(scale.count) BN channels but '\(layerNode.name)' has \(channels) outputs"))
        }
        guard let oldBias = LayerBias.values(layer, in: graph) else {
            return .failure(Reason(text: "'\(layerNode.name)' has no bias of its own to fold the BatchNorm shift into (a MatMul, or a bias shared with another node)"))
        }
        ChannelScaling.scale(&weight, axis: layer.outputChannelAxis, by: scale)
        let bias = (0..<channels).map { beta[$0] + (oldBias[$0] - mean[$0]) * scale[$0] }
        graph.initializers[layer.weightName] = weight
        LayerBias.set(bias, layer, in: &graph)
        let layerOutput = bn.inputs[0]
        graph.nodes.remove(at: index)
        // The BN's output name survives: when it is a graph output, the exported model keeps its name.
        let bnOutput = bn.outputs[0]
        if graph.outputs.contains(where: { $0.name == bnOutput }) {
            graph.nodes[producerIndex > index ? producerIndex - 1 : producerIndex].outputs[0] = bnOutput
            graph.rename(tensor: layerOutput, to: bnOutput)
        } else {
            graph.rename(tensor: bnOutput, to: layerOutput)
        }
        graph.foldedStatistics[layerNode.name] = BatchNormStatistics(gamma: gamma, beta: beta)
        let spread = (scale.map { abs($0) }.max() ?? 0) / max(scale.map { abs($0) }.min() ?? 1, .leastNormalMagnitude)
        return .success("\(bn.name) -> \(layerNode.name) (backward; gamma/sigma spans \(ReportFormat.number(Double(spread))) across channels)")
    }

    func foldForward(_ graph: inout Graph, batchNorm index: Int) -> Result<String, Reason> {
        let bn = graph.nodes[index]
        let consumers = graph.consumers()
        guard graph.readerCount(of: bn.outputs[0]) == 1, let next = consumers[bn.outputs[0]]?.first else {
            return .failure(Reason(text: "no single reader to fold forward into"))
        }
        var layerIndex = next
        if ["Flatten", "Reshape"].contains(graph.nodes[next].opType) {
            guard graph.readerCount(of: graph.nodes[next].outputs[0]) == 1, let after = consumers[graph.nodes[next].outputs[0]]?.first,
                  graph.nodes[after].opType == "Gemm" else {
                return .failure(Reason(text: "forward: \(graph.nodes[next].opType) is not followed by a single Gemm"))
            }
            layerIndex = after
        }
        let layerNode = graph.nodes[layerIndex]
        guard let layer = WeightLayer.make(layerNode, index: layerIndex, graph: graph), layer.opType == "Conv" || layer.opType == "Gemm" else {
            return .failure(Reason(text: "forward: '\(layerNode.name)' (\(layerNode.opType)) is not a Conv or Gemm with constant weights"))
        }
        if layer.opType == "Conv" {
            if layerNode.int("group", default: 1) != 1 { return .failure(Reason(text: "forward: '\(layerNode.name)' is grouped")) }
            if (layerNode.ints("pads") ?? []).contains(where: { $0 != 0 }) || !["NOTSET", "VALID"].contains(layerNode.string("auto_pad", default: "NOTSET")) {
                return .failure(Reason(text: "forward: '\(layerNode.name)' pads its input, which the BN offset would shift"))
            }
        }
        guard let (scale, _, beta, mean) = parameters(graph, bn) else { return .failure(Reason(text: "forward: parameters are not constant")) }
        guard graph.readers(ofInitializer: layer.weightName) == 1 else { return .failure(Reason(text: "forward: shared weights")) }
        var weight = graph.initializers[layer.weightName]!
        let inputAxis = layer.opType == "Conv" ? 1 : (layer.outputChannelAxis == 0 ? 1 : 0)
        let inputs = weight.shape[inputAxis]
        guard inputs % scale.count == 0 else { return .failure(Reason(text: "forward: channel counts do not match")) }
        let repeatFactor = inputs / scale.count  // Flatten: each channel spans H·W inputs
        let expandedScale = (0..<inputs).map { scale[$0 / repeatFactor] }
        let shift = (0..<inputs).map { beta[$0 / repeatFactor] - mean[$0 / repeatFactor] * scale[$0 / repeatFactor] }
        let outputs = weight.shape[layer.outputChannelAxis]
        var extraBias = [Float](repeating: 0, count: outputs)
        let perTap = layer.opType == "Conv" ? weight.shape[2...].reduce(1, *) : 1
        for o in 0..<outputs {
            for i in 0..<inputs {
                for k in 0..<perTap {
                    let flat = layer.opType == "Conv" ? (o * inputs + i) * perTap + k
                        : (layer.outputChannelAxis == 0 ? o * inputs + i : i * outputs + o)
                    extraBias[o] += weight.floats[flat] * shift[i]
                }
            }
        }
        if layer.opType == "Gemm" {  // Gemm computes alpha * A * B: the shift goes through alpha too
            let alpha = layerNode.float("alpha", default: 1)
            extraBias = extraBias.map { $0 * alpha }
        }
        guard LayerBias.canCarry(layer, in: graph) else {
            return .failure(Reason(text: "forward: '\(layerNode.name)' has no bias of its own to take the BatchNorm shift (a MatMul, or a bias shared with another node)"))
        }
        ChannelScaling.scale(&weight, axis: inputAxis, by: expandedScale)
        graph.initializers[layer.weightName] = weight
        LayerBias.add(extraBias, layer, in: &graph)
        let bnInput = bn.inputs[0]
        graph.nodes.remove(at: index)
        graph.rename(tensor: bn.outputs[0], to: bnInput)
        return .success("\(bn.name) -> \(layerNode.name) (forward)")
    }
}

/// Multiplying weights channel by channel along an axis.
public enum ChannelScaling {
    public static func scale(_ tensor: inout Tensor, axis: Int, by factors: [Float]) {
        let layout = tensor
        tensor.floats.withUnsafeMutableBufferPointer { buffer in
            layout.forEachChannelRun(axis: axis) { channel, run in
                for index in run { buffer[index] *= factors[channel] }
            }
        }
    }
}
