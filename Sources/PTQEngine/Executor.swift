/// Runs a Graph on float inputs with ONNX semantics.
///
/// The plan is built once: constants (initializers and Constant nodes) are resolved, each tensor
/// is freed after its last reader, and — unless `fuseActivations` is off — a Conv whose only reader
/// is a Relu or Clip applies that activation inside the convolution kernel (the fused pair then
/// produces only the activation's output, which is the only one quantization simulation observes).
/// 3×3 stride-1 convolutions get their Winograd-transformed weights here, once. Activations named
/// in `activationEncodings` are fake-quantized as they are produced (quantization simulation).
///
/// A batch runs one of two ways with the same results: sample by sample, the samples shared out
/// between threads (when nothing observes intermediate tensors and the graph keeps samples apart,
/// see `runSampleParallel`), or node by node over the whole batch, each kernel splitting its work.
public struct Executor: Sendable {
    struct Step: Sendable {
        var node: Node
        var function: OperatorFunction
        /// Set when this Conv absorbs the activation node `activationNode`.
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

    public let graph: Graph
    let constants: [String: Tensor]
    let steps: [Step]
    /// Tensors to release after step i.
    let releases: [[String]]
    /// Whether batches may run sample by sample (see `SampleIndependence`).
    let samplesIndependent: Bool
    /// Activations (graph inputs or produced tensors) fake-quantized as they are produced, before
    /// any hook sees them: quantization simulation as part of the plan, so it runs sample-parallel.
    public let activationEncodings: [String: Encoding]

    public init(graph: Graph, fuseActivations: Bool = true, activationEncodings: [String: Encoding] = [:]) throws {
        self.activationEncodings = activationEncodings
        Parallel.configure()
        try OperatorRegistry.check(graph)
        let sorted = try graph.topologicallySorted()
        self.graph = sorted
        var constants = sorted.initializers
        // Constants first, so a Clip's bounds are known when its producer Conv is planned.
        constants.merge(try sorted.constantNodeValues()) { _, node in node }
        var steps: [Step] = []
        let consumers = sorted.consumers()
        let graphOutputs = Set(sorted.outputs.map(\.name))
        var absorbed = Set<Int>()
        for (index, node) in sorted.nodes.enumerated() where !absorbed.contains(index) && node.opType != "Constant" {
            var step = Step(node: node, function: OperatorRegistry.table[node.opType]!, activation: .none, outputs: node.outputs,
                            floatInputs: OperatorContract.table[node.opType]?.floatInputs ?? [])
            if fuseActivations, node.opType == "Conv", let output = node.outputs.first, !graphOutputs.contains(output),
               let readers = consumers[output], readers.count == 1 {
                let next = sorted.nodes[readers[0]]
                if next.opType == "Relu" {
                    step.activation = .relu
                } else if next.opType == "Clip" {
                    let bounds = next.inputs.dropFirst().map { $0.isEmpty ? nil : constants[$0] }
                    if bounds.count == next.inputs.count - 1, !zip(next.inputs.dropFirst(), bounds).contains(where: { !$0.0.isEmpty && $0.1 == nil }),
                       let (low, high) = try? ActivationOperators.clipBounds(next, [nil] + bounds) {
                        step.activation = .clip(low, high)
                    }
                }
                if step.activation != .none {
                    absorbed.insert(readers[0])
                    step.outputs = next.outputs
                }
            }
            if node.opType == "Conv", node.inputs.count > 1, let weight = constants[node.inputs[1]],
               ConvolutionOperators.suitsWinograd(node, weight: weight) {
                step.winogradWeights = weight.floats.withUnsafeBufferPointer {
                    WinogradWeights($0.baseAddress!, outChannels: weight.shape[0], inChannels: weight.shape[1])
                }
            }
            steps.append(step)
        }
        self.constants = constants
        self.steps = steps
        var lastUse: [String: Int] = [:]
        for (index, step) in steps.enumerated() {
            for input in step.node.inputs where !input.isEmpty { lastUse[input] = index }
        }
        var releases = [[String]](repeating: [], count: steps.count)
        for (name, index) in lastUse where constants[name] == nil && !graphOutputs.contains(name) {
            releases[index].append(name)
        }
        self.releases = releases
        samplesIndependent = SampleIndependence.holds(sorted, constants: constants)
    }

    /// Tensors produced by the plan, in order: what hooks can observe.
    public var producedTensors: [String] { steps.flatMap(\.outputs) }

    /// Runs the graph. `hook` sees (and may replace) every produced tensor before it is used, so
    /// quantization simulation can fake-quantize activations and calibration can observe them.
    /// `keep` names extra tensors to return besides the graph outputs.
    ///
    /// Without a hook or kept tensors, a batch runs sample by sample with one thread per sample
    /// (see `runSampleParallel`); otherwise the whole batch goes through each node in turn.
    public func run(_ feeds: [String: Tensor], keep: Set<String> = [],
                    hook: ((String, inout Tensor) throws -> Void)? = nil,
                    isCancelled: (() -> Bool)? = nil) throws -> [String: Tensor] {
        if hook == nil, keep.isEmpty, let outputs = try runSampleParallel(feeds, isCancelled: isCancelled) {
            return outputs
        }
        return try runBatch(feeds, keep: keep, hook: hook, isCancelled: isCancelled)
    }

    func runBatch(_ feeds: [String: Tensor], keep: Set<String>, hook: ((String, inout Tensor) throws -> Void)?,
                  isCancelled: (() -> Bool)?) throws -> [String: Tensor] {
        var values: [String: Tensor] = [:]
        for input in graph.dataInputs {
            guard var value = feeds[input.name] else {
                throw PTQError.shapeMismatch("model input '\(input.name)' was not given")
            }
            fakeQuantize(input.name, &value)
            try hook?(input.name, &value)
            values[input.name] = value
        }
        for (index, step) in steps.enumerated() {
            if isCancelled?() == true { throw PTQError.cancelled }
            let inputs = step.node.inputs.map { name -> Tensor? in
                name.isEmpty ? nil : (values[name] ?? constants[name])
            }
            for (slot, name) in step.node.inputs.enumerated() where !name.isEmpty && inputs[slot] == nil {
                throw PTQError.execution(node: step.node.name, op: step.node.opType, problem: "input '\(name)' has no value")
            }
            var results = try step.execute(inputs, opset: graph.opsetVersion)
            // Mutate the results in place: a copy bound by `for var` would share storage with
            // `results` and force a copy of every activation the hook touches.
            for index in results.indices where index < step.outputs.count && !step.outputs[index].isEmpty {
                fakeQuantize(step.outputs[index], &results[index])
                try hook?(step.outputs[index], &results[index])
                values[step.outputs[index]] = results[index]
            }
            for name in releases[index] where !keep.contains(name) { values[name] = nil }
        }
        var result: [String: Tensor] = [:]
        for output in graph.outputs { result[output.name] = values[output.name] ?? constants[output.name] }
        for name in keep { if let value = values[name] ?? constants[name] { result[name] = value } }
        return result
    }

    @inline(__always)
    func fakeQuantize(_ name: String, _ tensor: inout Tensor) {
        if !activationEncodings.isEmpty, let encoding = activationEncodings[name], tensor.kind == .float {
            FakeQuantization.apply(&tensor, encoding)
        }
    }

    /// Live tensors of a run that is advanced one step at a time (`start`, then `advance`).
    public struct RunState {
        public var values: [String: Tensor]
        public var nextStep = 0
    }

    public var stepCount: Int { steps.count }
    /// The node step `index` runs (with its fused activation's outputs, if any).
    public func stepNode(_ index: Int) -> (node: Node, outputs: [String]) { (steps[index].node, steps[index].outputs) }

    public func start(_ feeds: [String: Tensor]) throws -> RunState {
        var values: [String: Tensor] = [:]
        for input in graph.dataInputs {
            guard let value = feeds[input.name] else { throw PTQError.shapeMismatch("model input '\(input.name)' was not given") }
            values[input.name] = value
        }
        return RunState(values: values)
    }

    /// Runs the next step; returns the names it produced (readable in `state.values` until released
    /// by a later step).
    @discardableResult
    public func advance(_ state: inout RunState) throws -> [String] {
        let index = state.nextStep
        let step = steps[index]
        let inputs = step.node.inputs.map { name -> Tensor? in name.isEmpty ? nil : (state.values[name] ?? constants[name]) }
        let results = try step.execute(inputs, opset: graph.opsetVersion)
        for (name, result) in zip(step.outputs, results) where !name.isEmpty { state.values[name] = result }
        for name in releases[index] { state.values[name] = nil }
        state.nextStep += 1
        return step.outputs
    }

    /// Shapes of every produced tensor for one sample (batch 1; symbolic dimensions taken as 1).
    public func inferShapes(inputShape: [Int]? = nil) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        var feeds: [String: Tensor] = [:]
        for input in graph.dataInputs {
            let shape = inputShape ?? input.shape.map { $0 ?? 1 }
            feeds[input.name] = Tensor(zeros: shape)
        }
        _ = try run(feeds) { name, tensor in shapes[name] = tensor.shape }
        return shapes
    }
}
