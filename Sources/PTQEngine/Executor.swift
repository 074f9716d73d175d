/// Runs a Graph on float inputs with ONNX semantics.
///
/// The plans are built once (`ExecutionPlan`): constants (initializers and Constant nodes) are resolved,
/// each tensor is freed after its last reader, and — unless `fuseActivations` is off — a Conv applies
/// the activation that reads its output inside the convolution kernel (Relu and Clip always; gated
/// activations such as SiLU only in runs that observe nothing but the outputs).
/// 3×3 stride-1 convolutions get their Winograd-transformed weights here, once. Activations named
/// in `activationEncodings` are fake-quantized as they are produced (quantization simulation).
///
/// A batch runs one of two ways with the same results: sample by sample, the samples shared out
/// between threads (when nothing observes intermediate tensors and the graph keeps samples apart,
/// see `runSampleParallel`), or node by node over the whole batch, each kernel splitting its work.
public struct Executor: Sendable {
    public let graph: Graph
    let constants: [String: Tensor]
    /// The plan for runs that observe tensors (hooks, kept tensors, step by step), and the one for runs
    /// that return only the outputs, which may fuse more (see `ExecutionPlan`).
    let observedPlan: ExecutionPlan
    let outputPlan: ExecutionPlan
    var steps: [ExecutionPlan.Step] { observedPlan.steps }
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
        let observed = ExecutionPlan(sorted, constants: constants,
                                     fusion: .init(clamps: fuseActivations, gated: false, observed: []))
        observedPlan = observed
        outputPlan = ExecutionPlan(sorted, constants: constants,
                                   fusion: .init(clamps: fuseActivations, gated: fuseActivations, observed: Set(activationEncodings.keys)),
                                   template: observed)
        self.constants = constants
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
        let plan = hook == nil && keep.isEmpty ? outputPlan : observedPlan
        let (steps, releases) = (plan.steps, plan.releases)
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
        if let output = try clampInPlace(index, &state) { return [output] }
        let inputs = step.node.inputs.map { name -> Tensor? in name.isEmpty ? nil : (state.values[name] ?? constants[name]) }
        let results = try step.execute(inputs, opset: graph.opsetVersion)
        for (name, result) in zip(step.outputs, results) where !name.isEmpty { state.values[name] = result }
        for name in observedPlan.releases[index] { state.values[name] = nil }
        state.nextStep += 1
        return step.outputs
    }

    /// Runs step `index` in place when it is Relu or a Clip with constant bounds whose input is not read again: the
    /// input's storage becomes the output (same values as the operator computes, without copying the tensor).
    private func clampInPlace(_ index: Int, _ state: inout RunState) throws -> String? {
        let step = steps[index]
        guard step.node.opType == "Relu" || step.node.opType == "Clip", step.outputs.count == 1, !step.outputs[0].isEmpty,
              let input = step.node.inputs.first, observedPlan.releases[index].contains(input),
              let activation = ExecutionPlan.clampActivation(step.node, constants),
              state.values[input]?.kind == .float, var tensor = state.values.removeValue(forKey: input) else { return nil }
        let (low, high): (Float, Float)
        switch activation {
        case .relu: (low, high) = (0, .infinity)
        case .clip(let a, let b): (low, high) = (a, b)
        default: state.values[input] = tensor; return nil
        }
        if !tensor.floats.isEmpty {
            tensor.floats.withUnsafeMutableBufferPointer { clamp($0.baseAddress!, count: $0.count, low: low, high: high) }
        }
        state.values[step.outputs[0]] = tensor
        for name in observedPlan.releases[index] where name != input { state.values[name] = nil }
        state.nextStep += 1
        return step.outputs[0]
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
