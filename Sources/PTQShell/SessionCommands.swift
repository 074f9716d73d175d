import Foundation
import PTQEngine

/// load, data, infer, checkpoint, restore, undo, set, run, quit.
enum SessionCommands {
    static let all: [CommandSpec] = [load, data, info, infer, ExportCommand.spec, checkpoint, restore, undo, DiffCommand.spec, set, run, quit]

    static let load = CommandSpec(
        name: "load", arguments: [ArgumentSpec("MODEL.onnx", isFile: true)],
        summary: "load an ONNX model; the loaded state becomes checkpoint \"loaded\"",
        discussion: "Every operator is checked against the supported set; an unsupported one fails the load.",
        examples: ["load models/mnist_mobilenet.onnx"], changesState: true
    ) { session, arguments, output in
        let path = session.resolve(arguments.positionals[0])
        let graph = try ONNXImport.load(path: path)
        try OperatorRegistry.check(graph)
        _ = try Executor(graph: graph).inferShapes()
        session.modelPath = path
        session.clearUndo()
        session.graph = graph
        session.stateOrigin = nil
        session.checkpoints = [:]
        session.checkpointOrder = []
        session.setCheckpoint("loaded", graph)
        output.line("loaded \(displayPath(path, session)): \(graph.nodes.count) nodes, \(WeightLayer.all(in: graph).count) weight layers, opset \(graph.opsetVersion)")
        let nonFinite = graph.nonFiniteConstants()
        if let first = nonFinite.first {
            output.line("warning: \(nonFinite.count) constant\(nonFinite.count == 1 ? "" : "s") hold NaN or infinite values (first '\(first.name)': \(first.count)); calibration skips such values")
        }
    }

    static let info = CommandSpec(
        name: "info", summary: "model summary: inputs, outputs, op counts, parameters, opset, data attached"
    ) { session, _, output in
        let graph = try session.requireGraph("info")
        output.write(ModelSummary.render(graph: graph, session: session))
    }

    static let infer = CommandSpec(
        name: "infer", arguments: [ArgumentSpec("INPUT.npy", isFile: true)],
        options: [OptionSpec("--out", value: "OUTPUT.npy", help: "write the first model output there (without it: shape and top classes only)", isFile: true),
                  OptionSpec("--batch", value: "N", help: "samples per batch (default 32)"),
                  OptionSpec("--scale", value: "S", help: "uint8 input becomes x*S (default 1/255)"),
                  OptionSpec("--force", help: "overwrite OUTPUT.npy if it exists")],
        summary: "run the current model (quantized if quantization is on) on INPUT.npy; print or write its output",
        discussion: "Without --out, prints the output's shape and, for the first 8 samples, the index of the largest value (the top class of a classifier).",
        examples: ["infer samples.npy --out logits.npy", "infer samples.npy"]
    ) { session, arguments, output in
        let graph = try session.requireGraph("infer")
        let inputPath = session.resolve(arguments.positionals[0])
        // uint8 input becomes x/255 (or x*S with --scale), as with `data`.
        let samples = try DataCommand.normalization(arguments, channels: nil).apply(try NumpyFile.read(path: inputPath))
        try DataCommand.checkShape(Array(samples.shape.dropFirst()), count: samples.shape.first ?? 0, graph: graph, file: inputPath)
        let batch = try arguments.integer("--batch", command: "infer", range: 1...4096) ?? 32
        var executor = try Executor(graph: graph)
        if let simulation = try QuantizeCommands.currentSimulation(&session, command: "infer", output: &output) {
            executor = try simulation.simulation()
        }
        let results = try Batching.run(executor, samples: samples, batchSize: batch, isCancelled: session.isCancelled)
        let name = graph.outputs[0].name
        guard let result = results[name] else { throw ShellError.other("infer: the model produced no output '\(name)'") }
        guard let out = arguments["--out"] else {
            output.line("\(name) \(describeShape(result.shape)) for \(samples.shape[0]) samples (--out OUTPUT.npy writes it)")
            let rows = result.shape.first ?? 0
            if rows > 0, result.kind == .float, result.count % rows == 0 {
                let width = result.count / rows
                let tops = (0..<min(rows, 8)).map { row -> String in
                    let slice = result.floats[(row * width)..<((row + 1) * width)]
                    return String((slice.indices.max { slice[$0] < slice[$1] } ?? row * width) - row * width)
                }
                output.line("largest value at index, first \(tops.count) samples: \(tops.joined(separator: " "))")
            }
            return
        }
        let outPath = session.resolve(out)
        try NumpyFile.write(result, to: outPath, overwrite: arguments.has("--force"))
        output.line("wrote \(displayPath(outPath, session)): \(name) \(describeShape(result.shape)) for \(samples.shape[0]) samples")
    }

    static let data = DataCommand.spec

    static let checkpoint = CommandSpec(
        name: "checkpoint", arguments: [ArgumentSpec("NAME")], summary: "name the current state, to restore or compare later",
        changesState: true
    ) { session, arguments, output in
        let graph = try session.requireGraph("checkpoint")
        let name = arguments.positionals[0]
        guard name != "loaded" else {
            throw ShellError.other("checkpoint: 'loaded' is the model as loaded (eval's reference); choose another name")
        }
        let replacing = session.checkpoints[name] != nil
        session.setCheckpoint(name, graph)
        output.line(replacing ? "checkpoint '\(name)' replaced with the current state" : "checkpoint '\(name)' saved")
    }

    static let restore = CommandSpec(
        name: "restore", arguments: [ArgumentSpec("NAME", completion: .checkpoint)],
        summary: "make a checkpoint the current state (undo steps back)", changesState: true
    ) { session, arguments, output in
        _ = try session.requireGraph("restore")
        let name = arguments.positionals[0]
        guard let graph = session.checkpoints[name] else {
            throw ShellError.unknownCheckpoint(name, available: session.checkpointOrder)
        }
        session.commit(graph)
        output.line("restored checkpoint '\(name)'")
    }

    static let undo = CommandSpec(
        name: "undo", summary: "step back one state-changing command",
        discussion: "ptq keeps the last \(Session.undoDepth) states (fewer when their weights together pass \(Session.undoBytes >> 30) GiB); checkpoints are kept apart and never dropped.",
        changesState: true, recordsUndo: false
    ) { session, _, output in
        guard let previous = session.popUndo() else { throw ShellError.other("undo: nothing to undo") }
        session.graph = previous.graph
        session.stateOrigin = previous.origin
        output.line("undone; \(session.undoStack.count) earlier state\(session.undoStack.count == 1 ? "" : "s") left")
    }

    static let set = CommandSpec(
        name: "set", arguments: [ArgumentSpec("KEY", completion: .settingKey), ArgumentSpec("VALUE")],
        summary: "change a setting: width N, echo on|off, timing on|off",
        discussion: "width: columns of charts (40 to 400). echo: print each command before its output (as `ptq run --echo`). timing: print each command's wall time after its output (varies from run to run: leave it off in golden scripts). No technique samples at random yet, so there is no seed to set.",
        examples: ["set width 120", "set echo on", "set timing on"]
    ) { session, arguments, output in
        let key = arguments.positionals[0], value = arguments.positionals[1]
        func onOff() throws -> Bool {
            guard value == "on" || value == "off" else { throw ShellError.badValue(command: "set", option: key, value: value, expected: "on or off") }
            return value == "on"
        }
        switch key {
        case "width":
            guard let width = Int(value), (40...400).contains(width) else {
                throw ShellError.badValue(command: "set", option: "width", value: value, expected: "an integer in 40...400")
            }
            session.settings.width = width
        case "echo": session.settings.echo = try onOff()
        case "timing": session.settings.timing = try onOff()
        default:
            let keys = ["width", "echo", "timing"]
            throw ShellError.badValue(command: "set", option: "KEY", value: key,
                                      expected: "one of \(keys.joined(separator: ", "))" + (nearest(key, in: keys).map { " (did you mean '\($0)'?)" } ?? ""))
        }
        output.line("\(key) = \(value)")
    }

    static let run = CommandSpec(
        name: "run", arguments: [ArgumentSpec("FILE.ptq", isFile: true)],
        summary: "run a script inside this session (stops at its first failing command)"
    ) { _, _, _ in }

    static let quit = CommandSpec(name: "quit", aliases: ["exit"], summary: "leave ptq", isMeta: true) { _, _, _ in }

    /// A path as the user would like to read it: relative to the session's folder when inside it.
    static func displayPath(_ path: String, _ session: Session) -> String {
        let base = session.baseDirectory.hasSuffix("/") ? session.baseDirectory : session.baseDirectory + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }
}
