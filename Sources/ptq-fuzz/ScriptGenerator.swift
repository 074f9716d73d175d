import PTQShell

/// Random command lines drawn from the command table: real command names (and near misses), their
/// options, and values from pools that mix the plausible with the hostile. Paths are relative names
/// only, so every file a case writes stays inside its own folder.
enum ScriptGenerator {
    static let words = ["model.onnx", "x.npy", "labels.npy", "data.npz", "out.onnx", "out.npy", "self.ptq",
                        "missing.npy", "notes.md", "report.json", "report.html", "loaded", "folded", "nosuch", "conv1", "dw", "fc",
                        "matmul", "up", "pw", "cle", "fold-bn", "dfq", "relu6-to-relu", "high-bias-fold",
                        "bias-correction", "top1", "delta.top1", "sqnr", "mse", ">", ">=", "<", "==", "0", "-1", "1",
                        "2", "4", "8", "16", "32", "1e9", "99999999999999999999", "nan", "inf", "-inf", "0.5", "on",
                        "off", "width", "seed", "echo", "timing", "minmax", "sqnr", "percentile:99", "percentile:",
                        "percentile:200", "empirical", "analytical", "hybrid", "calibration", "evaluation", "both",
                        "0.1,0.2,0.3", "1,1,1", ",", "\"quoted word\"", "'", "\"", "\\", "#", "é", ""]

    static func line(_ random: inout FuzzRandom) -> String {
        let table = Commands.table
        let spec = random.pick(table)
        var parts: [String] = []
        switch random.below(10) {
        case 0: parts.append(String(spec.name.dropLast()))
        case 1: parts.append(random.pick(spec.aliases + [spec.name.uppercased()]))
        default: parts.append(spec.name)
        }
        for _ in 0..<random.below(4) { parts.append(random.pick(words)) }
        for _ in 0..<random.below(4) where !spec.options.isEmpty {
            let option = random.pick(spec.options)
            parts.append(random.chance(10) ? option.name + "x" : option.name)
            if option.valueName != nil, random.chance(90) { parts.append(random.pick(words)) }
        }
        return parts.map { word in
            word.contains(" ") || word.isEmpty ? "\"\(word)\"" : word
        }.joined(separator: " ")
    }
}
