import Foundation
import PTQEngine

/// export: the current model as ONNX, with AIMET encodings or as a QDQ model.
enum ExportCommand {
    static let spec = CommandSpec(
        name: "export", arguments: [ArgumentSpec("OUT.onnx", isFile: true)],
        options: [OptionSpec("--encodings", value: "OUT.encodings", help: "also write AIMET-style encodings JSON", isFile: true),
                  OptionSpec("--encoding-version", value: "0.6.1|1.0.0", help: "encodings format (default 0.6.1)"),
                  OptionSpec("--qdq", help: "write a QDQ model (QuantizeLinear/DequantizeLinear) that ONNX Runtime runs"),
                  OptionSpec("--force", help: "overwrite existing files")],
        summary: "write the (transformed) model as ONNX, optionally with encodings or as a QDQ model",
        discussion: "Files are written atomically; an existing file is replaced only with --force. --encodings and --qdq need quantization on.",
        examples: ["export out/model.onnx --encodings out/model.encodings", "export out/model_qdq.onnx --qdq"]
    ) { session, arguments, output in
        let graph = try session.requireGraph("export")
        let path = session.resolve(arguments.positionals[0])
        let force = arguments.has("--force")
        let version = arguments["--encoding-version"] ?? "0.6.1"
        guard EncodingsExport.versions.contains(version) else {
            throw ShellError.badValue(command: "export", option: "--encoding-version", value: version, expected: "0.6.1 or 1.0.0")
        }
        var state: QuantizationState?
        if arguments.has("--qdq") || arguments["--encodings"] != nil {
            state = try QuantizeCommands.currentSimulation(&session, command: "export", output: &output)
            guard state != nil else { throw ShellError.other("export: --encodings and --qdq need quantization on; run `quantize` first") }
        }
        if arguments.has("--qdq"), let state {
            let qdq = try QDQExport.graph(state)
            try ONNXExport.save(qdq, to: path, overwrite: force)
            output.line("wrote \(arguments.positionals[0]): QDQ model, \(qdq.nodes.filter { $0.opType == "QuantizeLinear" }.count) activation and \(state.weightEncodings.count) weight quantizers, opset \(qdq.opsetVersion)")
        } else {
            try ONNXExport.save(graph, to: path, overwrite: force)
            output.line("wrote \(arguments.positionals[0]): \(graph.nodes.count) nodes, opset \(graph.opsetVersion)")
        }
        if let encodingsPath = arguments["--encodings"], let state {
            try writeAtomically(try EncodingsExport.json(state, version: version), to: session.resolve(encodingsPath), overwrite: force)
            output.line("wrote \(encodingsPath): encodings \(version), \(state.activationEncodings.count) activations, \(state.weightEncodings.count) parameters")
        }
    }
}
