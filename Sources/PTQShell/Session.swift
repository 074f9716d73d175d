import Foundation
import PTQEngine

/// Input samples attached with `data`, with optional labels, for calibration and/or evaluation.
public struct AttachedData: Sendable {
    public var path: String
    /// Read a batch at a time (a .npy file, a folder of images) or held in memory (.npz).
    public var source: SampleSource
    public var labels: [Int]?
    public var purpose: String  // calibration, evaluation or both
    public var usedForCalibration: Bool { purpose != "evaluation" }
    public var usedForEvaluation: Bool { purpose != "calibration" }
}

/// Settings changed with `set`.
public struct Settings: Sendable, Equatable {
    public var width: Int = 100
    public var echo: Bool = false
    public var timing: Bool = false
}

/// Everything a command may change. Commands run on a copy; the copy replaces the session only when
/// the command succeeds, so a failed command leaves the state exactly as it was.
public struct Session: Sendable {
    public var modelPath: String?
    public var graph: Graph?
    /// Earlier states, most recent last, for `undo`: at most `undoDepth` of them, and fewer when
    /// their weights together pass `undoBytes` (the oldest go first; checkpoints are kept apart).
    public private(set) var undoStack: [Graph] = []
    /// For each state in `undoStack`, the cell that made it (`stateOrigin` then), so `undo` names it again.
    private var undoOrigins: [String?] = []
    public static let undoDepth = 16
    public static let undoBytes = 2 << 30
    public var checkpoints: [String: Graph] = [:]
    public var checkpointOrder: [String] = []
    public var calibrationData: AttachedData?
    public var evaluationData: AttachedData?
    public var settings = Settings()
    /// Folder that relative paths are resolved against (the script's folder inside `run`).
    public var baseDirectory: String
    public var lastMetrics: [String: Double?] = [:]
    /// Every `eval` of the session, in order (`evals`, the report's accuracy ladder).
    public var evaluations: [EvaluationRecord] = []
    /// The cell whose command last changed the model ("[7] apply cle"), naming states that are no checkpoint.
    public var stateOrigin: String?
    /// The quantization configuration when simulation is on, and its calibration (nil until calibrated).
    public var quantizationConfiguration: QuantizationConfiguration?
    public var quantization: QuantizationState?
    /// The notebook so far: every command run at the top level, with its output.
    public var cells: [Cell] = []
    /// Polled by long commands; true once the user pressed Ctrl-C.
    public var isCancelled: @Sendable () -> Bool = { false }
    /// Shows progress of long work (label, done, total: a bar on a terminal's stderr); never part of command output.
    public var progress: (@Sendable (String, Int, Int) -> Void)? = nil

    /// `progress` for one labelled piece of work, as the engine's (done, total) callbacks take it.
    public func progress(_ label: String) -> (@Sendable (Int, Int) -> Void)? {
        guard let progress else { return nil }
        return { done, total in progress(label, done, total) }
    }

    public init(baseDirectory: String = FileManager.default.currentDirectoryPath) {
        self.baseDirectory = baseDirectory
    }

    public func resolve(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        // Not standardized: stripping the folder again (`displayPath`) gives back what the user typed.
        return (baseDirectory.hasSuffix("/") ? baseDirectory : baseDirectory + "/") + expanded
    }

    public func requireGraph(_ command: String) throws -> Graph {
        guard let graph else { throw ShellError.noModel(command: command) }
        return graph
    }

    /// Replaces the current graph, keeping the previous one for `undo`.
    public mutating func commit(_ newGraph: Graph) {
        if let graph { pushUndo(graph) }
        graph = newGraph
    }

    /// Keeps `state` as the most recent earlier state, dropping the oldest beyond the bounds.
    /// Weights are counted as if no two states shared storage, so the bound errs on the safe side.
    public mutating func pushUndo(_ state: Graph, origin: String? = nil) {
        undoStack.append(state)
        undoOrigins.append(origin)
        func bytes(_ graph: Graph) -> Int { graph.initializers.values.reduce(0) { $0 + $1.count * 4 } }
        while undoStack.count > Self.undoDepth || (undoStack.count > 1 && undoStack.map(bytes).reduce(0, +) > Self.undoBytes) {
            undoStack.removeFirst()
            undoOrigins.removeFirst()
        }
    }

    /// The previous state, and the cell that made it.
    public mutating func popUndo() -> (graph: Graph, origin: String?)? {
        guard let graph = undoStack.popLast() else { return nil }
        return (graph, undoOrigins.popLast() ?? nil)
    }
    public mutating func clearUndo() {
        undoStack = []
        undoOrigins = []
    }

    public mutating func setCheckpoint(_ name: String, _ graph: Graph) {
        if checkpoints[name] == nil { checkpointOrder.append(name) }
        checkpoints[name] = graph
    }

    /// Weight layers of the current graph (Conv, ConvTranspose, Gemm, MatMul with a constant weight).
    public var layerNames: [String] {
        guard let graph else { return [] }
        return WeightLayer.all(in: graph).map(\.name)
    }
}

/// Text a command prints, collected so the interpreter can both show it and keep it in the cell; charts also
/// keep the numbers they were drawn from (`report` draws them as plots).
public struct Output: Sendable {
    public private(set) var text = ""
    public private(set) var figures: [PlacedFigure] = []
    public init() {}
    public mutating func line(_ value: String = "") { text += value + "\n" }
    public mutating func write(_ value: String) { text += value }
    /// A chart: `ascii` is what the terminal shows, `figure` what the report draws in its place.
    public mutating func chart(_ ascii: String, _ figure: Figure) {
        let start = text.utf8.count
        text += ascii
        figures.append(PlacedFigure(figure: figure, textRange: start..<text.utf8.count))
    }
}
