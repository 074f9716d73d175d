/// The activation after a layer that AdaRound's reconstruction loss looks through: ‖f(W̃x + b) − f(Wx + b)_FP32‖²
/// with f the layer's following activation, as AIMET takes it. Found from the graph: the single reader of the
/// layer's output when it is Relu, Clip with constant bounds (its real bounds), Sigmoid or Tanh, and a Relu followed
/// by a per-channel Min (a ReLU6 kept through cle, `ChannelBounds`). Anything else (no reader of those kinds, several
/// readers, gated activations) leaves the loss on the layer's own output.
enum ReconstructionActivation: Sendable, Equatable {
    case none
    case relu
    case clip(Float, Float)
    /// Relu then min(x, bound[c]) in channel c.
    case channelBound([Float])
    case sigmoid
    case tanh

    /// The activation after `layer` and the tensor it produces (the reconstruction target), or (.none, layer output).
    static func following(_ layer: WeightLayer, in graph: Graph) -> (ReconstructionActivation, String) {
        let node = graph.nodes[layer.nodeIndex]
        let output = node.outputs[0]
        let consumers = graph.consumers()
        guard !graph.outputs.contains(where: { $0.name == output }), let readers = consumers[output], readers.count == 1 else {
            return (.none, output)
        }
        let reader = graph.nodes[readers[0]]
        guard reader.inputs.first == output, let result = reader.outputs.first, !result.isEmpty else { return (.none, output) }
        switch reader.opType {
        case "Relu":
            if !graph.outputs.contains(where: { $0.name == result }), let next = consumers[result], next.count == 1,
               let name = ChannelBounds.bound(of: graph.nodes[next[0]], after: reader, graph), let bound = graph.initializers[name] {
                let channels = layer.outputChannels(graph)
                let bounds = bound.count == 1 ? [Float](repeating: bound.floats[0], count: channels) : bound.floats
                guard bounds.count == channels else { return (.relu, result) }
                return (.channelBound(bounds), graph.nodes[next[0]].outputs[0])
            }
            return (.relu, result)
        case "Clip":
            let constants = (try? graph.constantNodeValues()) ?? [:]
            guard let (low, high) = ActivationOperators.constantClipBounds(reader, { graph.initializers[$0] ?? constants[$0] }) else {
                return (.none, output)
            }
            return (.clip(low, high), result)
        case "Sigmoid": return (.sigmoid, result)
        case "Tanh": return (.tanh, result)
        default: return (.none, output)
        }
    }

    var description: String {
        switch self {
        case .none: return "none"
        case .relu: return "Relu"
        case .clip(let low, let high): return "Clip(\(ReportFormat.number(Double(low))), \(ReportFormat.number(Double(high))))"
        case .channelBound: return "Relu + per-channel bound"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        }
    }

    /// The activation's value at x in channel `channel`.
    @inline(__always)
    func apply(_ x: Float, channel: Int) -> Float {
        switch self {
        case .none: return x
        case .relu: return max(x, 0)
        case .clip(let low, let high): return min(max(x, low), high)
        case .channelBound(let bounds): return min(max(x, 0), bounds[channel])
        case .sigmoid: return VectorMath.sigmoid(x)
        case .tanh: return 2 * VectorMath.sigmoid(2 * x) - 1
        }
    }

    /// Σ (f(z) − target)² over one channel's `count` values, in Double (for the loss the report shows).
    func squaredError(_ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int, channel: Int) -> Double {
        var sum = 0.0
        for index in 0..<count {
            let difference = Double(apply(z[index], channel: channel) - target[index])
            sum += difference * difference
        }
        return sum
    }

    /// dL/dz of a clamp to [low, high] in place: a function of its own, without the enum's switch around it, so LLVM
    /// vectorizes the loop (inlined into the switch it stayed scalar); selects rather than min/max and `&&`.
    @inline(never)
    static func clampGradient(_ z: UnsafeMutablePointer<Float>, target: UnsafePointer<Float>, count: Int, low: Float, high: Float, twice: Float) {
        for index in 0..<count {
            let x = z[index]
            let difference = (x < low ? low : (x > high ? high : x)) - target[index]
            z[index] = (x > low ? twice : 0) * (x < high ? difference : 0)
        }
    }

    /// Σ (f(z) − target)² over rows × channels values laid out channels last.
    func channelSquaredError(_ z: UnsafePointer<Float>, target: UnsafePointer<Float>, rows: Int, channels: Int) -> Double {
        var sum = 0.0
        for row in 0..<rows {
            for channel in 0..<channels {
                let offset = row * channels + channel
                let difference = Double(apply(z[offset], channel: channel) - target[offset])
                sum += difference * difference
            }
        }
        return sum
    }

    /// Overwrites the pre-activations `z` (one channel's `count` values, channel `channel`) with dL/dz for
    /// L = scale · Σ (f(z) − target)². No sum in the loops, so they vectorize.
    func gradient(_ z: UnsafeMutablePointer<Float>, target: UnsafePointer<Float>, count: Int, channel: Int, scale: Float) {
        let twice = 2 * scale
        switch self {
        case .none:
            for index in 0..<count { z[index] = twice * (z[index] - target[index]) }
        case .relu, .clip, .channelBound:
            let (low, high): (Float, Float)
            switch self {
            case .clip(let a, let b): (low, high) = (a, b)
            case .channelBound(let bounds): (low, high) = (0, bounds[channel])
            default: (low, high) = (0, .infinity)
            }
            // torch's relu and hardtanh pass the gradient strictly inside their bounds.
            Self.clampGradient(z, target: target, count: count, low: low, high: high, twice: twice)
        case .sigmoid:
            for index in 0..<count {
                let y = VectorMath.sigmoid(z[index])
                z[index] = twice * (y - target[index]) * y * (1 - y)
            }
        case .tanh:
            for index in 0..<count {
                let y = 2 * VectorMath.sigmoid(2 * z[index]) - 1
                z[index] = twice * (y - target[index]) * (1 - y * y)
            }
        }
    }
}
