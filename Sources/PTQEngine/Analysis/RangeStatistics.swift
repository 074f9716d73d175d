import Foundation

/// Per-output-channel weight statistics of one layer, as the range charts show them.
///
/// - channel range = max − min of the channel's weights;
/// - a channel is dead when its range is below 1e-12 of the layer's largest range; dead channels
///   are left out of everything below;
/// - relative range = range / smallest live range; a channel is an outlier when its relative range
///   exceeds Q3 + 1.5·IQR of the relative ranges (quartiles by linear interpolation), AIMET's rule;
/// - spread = largest live range / smallest live range.
public struct RangeStatistics: Sendable, Equatable {
    public struct Channel: Sendable, Equatable {
        public var minimum, maximum, mean, standardDeviation: Float
        public var range: Float { maximum - minimum }
        public var isDead: Bool
        public var isOutlier: Bool
    }

    public var layer: String
    public var channels: [Channel]
    public var spread: Double
    public var outlierThreshold: Double

    public var deadCount: Int { channels.filter(\.isDead).count }
    public var outlierCount: Int { channels.filter(\.isOutlier).count }

    /// Channel indices, widest range first (ties in channel order): the order `--sort` charts them in.
    public var channelsByRange: [Int] {
        channels.indices.sorted { channels[$0].range > channels[$1].range || (channels[$0].range == channels[$1].range && $0 < $1) }
    }

    public init(layer: WeightLayer, graph: Graph) {
        let weight = graph.initializers[layer.weightName]!
        self.init(name: layer.name, weight: weight, axis: layer.outputChannelAxis)
    }

    public init(name: String, weight: Tensor, axis: Int) {
        layer = name
        let values = weight.asFloats
        let shaped = weight.rank == 0 ? weight.reshaped([1]) : weight
        let count = shaped.shape[axis]
        var minimum = [Float](repeating: .infinity, count: count), maximum = [Float](repeating: -.infinity, count: count)
        var sum = [Double](repeating: 0, count: count), squares = [Double](repeating: 0, count: count)
        shaped.forEachChannelRun(axis: axis) { c, run in
            for index in run {
                let value = values[index]
                minimum[c] = min(minimum[c], value)
                maximum[c] = max(maximum[c], value)
                sum[c] += Double(value)
                squares[c] += Double(value) * Double(value)
            }
        }
        let perChannel = Double(max(1, shaped.count / max(1, count)))
        let largest = zip(maximum, minimum).map { $0 - $1 }.max() ?? 0
        channels = (0..<count).map { c in
            let mean = sum[c] / perChannel
            let variance = max(0, squares[c] / perChannel - mean * mean)
            return Channel(minimum: minimum[c], maximum: maximum[c], mean: Float(mean), standardDeviation: Float(variance.squareRoot()),
                           isDead: maximum[c] - minimum[c] < 1e-12 * largest || largest == 0, isOutlier: false)
        }
        let live = channels.filter { !$0.isDead }.map { Double($0.range) }
        guard let smallest = live.min(), smallest > 0 else {
            spread = live.isEmpty ? 0 : 1
            outlierThreshold = .infinity
            return
        }
        spread = live.max()! / smallest
        let relative = live.map { $0 / smallest }
        let q1 = RangeStatistics.quantile(relative, 0.25), q3 = RangeStatistics.quantile(relative, 0.75)
        outlierThreshold = q3 + 1.5 * (q3 - q1)
        for index in channels.indices where !channels[index].isDead {
            channels[index].isOutlier = Double(channels[index].range) / smallest > outlierThreshold
        }
    }

    /// Quantile by linear interpolation between order statistics (numpy's default).
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}
