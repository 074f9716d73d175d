/// The steps an `Executor` runs, in order, and the tensors it may free after each.
///
/// Fusion: a Conv may absorb the pointwise activation that is the only reader of its output, so the
/// kernel applies it while the output is still in cache and the Conv's own output never exists.
/// - Relu and Clip (constant bounds): in every plan unless fusion is off. Quantizer placement treats
///   Conv+Relu and Conv+Clip as one group, so nothing ever observes the Conv's output on its own.
/// - Gated activations (x · gate(x): HardSwish, a HardSigmoid or Sigmoid multiplied by its own input, the
///   way torch exports hard-swish before opset 14 and SiLU): only in the plan for runs that observe
///   nothing but the outputs (`outputsOnly`), and only when neither intermediate carries a quantizer,
///   since calibration and hooks see the Conv output and the gate as tensors of their own. The fused
///   kernel computes the same expression as the unfused ops, so the results keep their bits.
struct ExecutionPlan: Sendable {
    struct Step: Sendable {
        var node: Node
        var function: OperatorFunction
        /// Set when this Conv absorbs the activation that reads its output.
        var activation: FusedActivation
        var outputs: [String]
        /// A 3×3 stride-1 Conv's weights, transformed for `WinogradKernel` when the plan is made.
        var winogradWeights: WinogradWeights? = nil
        /// Inputs that must hold floats (`OperatorContract.floatInputs`).
        var floatInputs: [Int] = []

        func execute(_ inputs: [Tensor?], opset: Int) throws -> [Tensor] {
            try OperatorContract.checkFloatInputs(node, floatInputs, inputs)
            if activation != .none || winogradWeights != nil {
                return [try ConvolutionOperators.conv(node, inputs, activation: activation, winograd: winogradWeights)]
            }
            return try function(node, inputs, opset)
        }
    }

    var steps: [Step]
    /// Tensors to release after step i.
    var releases: [[String]]

    /// What the planner may fuse.
    struct Fusion {
        var clamps: Bool
        var gated: Bool
        /// Tensors that must stay observable (quantized activations): never fused away by `gated`.
        var observed: Set<String>
    }

    /// `template`, when given, is a plan of the same graph whose Winograd weights are reused.
    init(_ graph: Graph, constants: [String: Tensor], fusion: Fusion, template: ExecutionPlan? = nil) {
        let consumers = graph.consumers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        let winograd = Dictionary((template?.steps ?? []).compactMap { step in
            step.winogradWeights.flatMap { weights in step.node.outputs.first.map { ($0, weights) } }
        }, uniquingKeysWith: { first, _ in first })
        var absorbed = Set<Int>()
        var steps: [Step] = []
        for (index, node) in graph.nodes.enumerated() where !absorbed.contains(index) && node.opType != "Constant" {
            var step = Step(node: node, function: OperatorRegistry.table[node.opType]!, activation: .none, outputs: node.outputs,
                            floatInputs: OperatorContract.table[node.opType]?.floatInputs ?? [])
            if node.opType == "Conv", node.inputs.count > 1, let weight = constants[node.inputs[1]],
               ConvolutionOperators.suitsWinograd(node, weight: weight) {
                step.winogradWeights = node.outputs.first.flatMap { winograd[$0] } ?? weight.floats.withUnsafeBufferPointer {
                    WinogradWeights($0.baseAddress!, outChannels: weight.shape[0], inChannels: weight.shape[1])
                }
            }
            if node.opType == "Conv", let output = node.outputs.first, !graphOutputs.contains(output),
               let readers = consumers[output] {
                var match: (FusedActivation, [Int], [String])? = nil
                if fusion.clamps, readers.count == 1 {
                    match = Self.clampActivation(graph.nodes[readers[0]], constants).map { ($0, readers, graph.nodes[readers[0]].outputs) }
                }
                if match == nil, fusion.gated, step.winogradWeights == nil, !fusion.observed.contains(output) {
                    match = Self.gatedActivation(graph, output: output, readers: readers, consumers: consumers,
                                                 protected: fusion.observed.union(graphOutputs))
                }
                if let (activation, nodes, outputs) = match {
                    step.activation = activation
                    step.outputs = outputs
                    absorbed.formUnion(nodes)
                }
            }
            steps.append(step)
        }
        self.steps = steps
        var lastUse: [String: Int] = [:]
        for (index, step) in steps.enumerated() {
            for input in step.node.inputs where !input.isEmpty { lastUse[input] = index }
        }
        var releases = [[String]](repeating: [], count: steps.count)
        for (name, index) in lastUse.sorted(by: { $0.key < $1.key }) where constants[name] == nil && !graphOutputs.contains(name) {
            releases[index].append(name)
        }
        self.releases = releases
    }

    /// Relu, or Clip with constant bounds.
    static func clampActivation(_ next: Node, _ constants: [String: Tensor]) -> FusedActivation? {
        if next.opType == "Relu" { return .relu }
        guard next.opType == "Clip", let (low, high) = ActivationOperators.constantClipBounds(next, { constants[$0] }) else { return nil }
        return .clip(low, high)
    }

    /// HardSwish reading `output`, or a HardSigmoid/Sigmoid of `output` multiplied by `output` (in either
    /// order), with the gate read by nothing else: the activation, the absorbed nodes and their output.
    static func gatedActivation(_ graph: Graph, output: String, readers: [Int], consumers: [String: [Int]],
                                protected: Set<String>) -> (FusedActivation, [Int], [String])? {
        if readers.count == 1, graph.nodes[readers[0]].opType == "HardSwish" {
            return (.hardSwish, readers, graph.nodes[readers[0]].outputs)
        }
        guard readers.count == 2 else { return nil }
        let nodes = readers.map { graph.nodes[$0] }
        guard let gateSlot = nodes.firstIndex(where: { $0.opType == "HardSigmoid" || $0.opType == "Sigmoid" }) else { return nil }
        let gate = nodes[gateSlot], product = nodes[1 - gateSlot]
        guard gate.inputs == [output], gate.outputs.count == 1, let gated = gate.outputs.first, !protected.contains(gated),
              consumers[gated] == [readers[1 - gateSlot]], product.opType == "Mul", product.outputs.count == 1,
              product.inputs == [output, gated] || product.inputs == [gated, output] else { return nil }
        let activation: FusedActivation = gate.opType == "Sigmoid" ? .silu
            : .hardSigmoidProduct(gate.float("alpha", default: 0.2), gate.float("beta", default: 0.5))
        return (activation, readers, product.outputs)
    }
}
