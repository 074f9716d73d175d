/// The optimization of one layer's rounding: `iterations` Adam steps on V over random batches of the cached samples,
/// then the hard rounding, and the reconstruction loss over every cached sample with the nearest and the learnt
/// rounding (what the report shows).
struct AdaRoundOptimization {
    let problem: LayerReconstruction
    var variables: AdaRoundVariables
    let weight: Tensor
    let encodings: [Encoding]
    let axis: Int
    let settings: AdaRound.Settings
    let seed: UInt64
    /// The regulariser's weight λ and the warm-start fraction, AIMET's defaults.
    static let lambda: Float = 0.01, warmStart = 0.2

    struct Result {
        var weight: [Float]
        var nearestLoss: Double, learntLoss: Double
        /// Weights whose learnt grid point differs from the nearest one.
        var flips: Int
    }

    init(problem: LayerReconstruction, weight: Tensor, encodings: [Encoding], axis: Int, settings: AdaRound.Settings, seed: UInt64) throws {
        guard problem.weightCount == weight.count else {
            throw PTQError.shapeMismatch("AdaRound's layer takes \(problem.weightCount) weights; the weight holds \(weight.count)")
        }
        self.problem = problem
        self.variables = AdaRoundVariables(weight: weight, encodings: encodings, axis: axis)
        self.weight = weight
        self.encodings = encodings
        self.axis = axis
        self.settings = settings
        self.seed = seed
    }

    func run(isCancelled: (@Sendable () -> Bool)?, progress: (Int) -> Void) throws -> Result {
        var variables = self.variables
        var nearest = weight
        FakeQuantization.apply(&nearest, encodings, axis: axis)
        let nearestLoss = loss(nearest.floats)
        var soft = [Float](repeating: 0, count: weight.count), gradient = soft
        var random = SeededRandom(seed: seed)
        var order = Array(0..<problem.samples)
        for iteration in 0..<settings.iterations {
            if isCancelled?() == true { throw PTQError.cancelled }
            let batch = random.distinct(settings.batch, from: &order)
            soft.withUnsafeMutableBufferPointer { variables.softWeight(into: $0.baseAddress!) }
            soft.withUnsafeBufferPointer { weights in
                gradient.withUnsafeMutableBufferPointer { _ = problem.gradient(weight: weights.baseAddress!, batch: batch, into: $0.baseAddress!, measure: false) }
            }
            let beta = AdaRoundVariables.beta(iteration: iteration, iterations: settings.iterations, warmStart: Self.warmStart)
            gradient.withUnsafeMutableBufferPointer { variables.step(weightGradient: $0.baseAddress!, regularization: beta.map { (Self.lambda, Float($0)) }) }
            if iteration % 16 == 15 { progress(iteration + 1) }
        }
        let hard = variables.hardWeight()
        let flips = zip(hard, nearest.floats).filter { $0 != $1 }.count
        return Result(weight: hard, nearestLoss: nearestLoss, learntLoss: loss(hard), flips: flips)
    }

    /// The reconstruction loss of `weights` over every cached sample (in batches, weighted by their sizes).
    func loss(_ weights: [Float]) -> Double {
        var total = 0.0
        var start = 0
        while start < problem.samples {
            let batch = Array(start..<min(problem.samples, start + settings.batch))
            let value = weights.withUnsafeBufferPointer { problem.gradient(weight: $0.baseAddress!, batch: batch, into: nil, measure: true) ?? 0 }
            total += value * Double(batch.count)
            start += batch.count
        }
        return total / Double(max(1, problem.samples))
    }
}
