import Foundation
import PTQEngine

/// `data FOLDER`: the options that say how a folder of images becomes samples, and the attaching.
enum ImageDataOptions {
    static let options: [OptionSpec] = [
        OptionSpec("--classes", value: "SYNSETS.txt", help: "class index of each folder: its line in this list (`<wnid> <name>` per line)", isFile: true),
        OptionSpec("--resize", value: "N", help: "shorter side to N pixels (PIL bilinear, as torchvision's Resize)"),
        OptionSpec("--crop", value: "N", help: "center crop N x N (as torchvision's CenterCrop)"),
        OptionSpec("--preset", value: "imagenet|pm1|unit", help: "normalization after x/255 (default unit)"),
        OptionSpec("--bgr", help: "channels in B, G, R order (then --mean/--std are too)"),
        OptionSpec("--per-class", value: "N", help: "take the first N images of each class folder (after --skip-per-class)"),
        OptionSpec("--skip-per-class", value: "N", help: "leave out the first N images of each class folder"),
        OptionSpec("--skip-unreadable", help: "decode every image now and leave out those that fail (counted)"),
    ]

    static let discussion = """
        A FOLDER holds JPEG or PNG images: one subfolder per class (ImageFolder; class index = the folder's line in \
        --classes, else its place among the sorted folder names), or images side by side with --labels FILE.csv \
        (file,label per line) or without labels. Files are taken in sorted order; grey, palette and CMYK images become RGB \
        as PIL converts them. A file that does not decode is an error naming it, when it is read; --skip-unreadable \
        decodes every image when attaching and leaves out (and counts) those that fail. Each batch is decoded on all cores while the model runs the one before, then preprocessed as \
        torchvision evaluates: --resize (shorter side, PIL's antialiased bilinear), --crop (center), x/255, then \
        (x-mean)/std from --preset (imagenet: 0.485,0.456,0.406 / 0.229,0.224,0.225; pm1: x*2-1; unit: x) or --mean/--std. \
        --per-class and --skip-per-class split one folder into calibration and evaluation images.
        """

    static func attach(_ path: String, _ arguments: Arguments, session: Session, skip: Int, limit: Int,
                       purpose: String) throws -> (AttachedData, String) {
        for option in ["--key", "--labels-key", "--allow-nonfinite"] where arguments.has(option) || arguments[option] != nil {
            throw ShellError.other("data: \(option) applies to .npy/.npz files; \(arguments.positionals[0]) is a folder of images")
        }
        var preprocessing = ImagePreprocessing(resize: try arguments.integer("--resize", command: "data", range: 1...65_536),
                                               crop: try arguments.integer("--crop", command: "data", range: 1...65_536))
        if let name = arguments["--preset"] {
            guard let preset = ImagePreprocessing.presets.first(where: { $0.name == name }) else {
                throw ShellError.badValue(command: "data", option: "--preset", value: name,
                                          expected: ImagePreprocessing.presets.map(\.name).joined(separator: ", "))
            }
            if arguments["--mean"] != nil || arguments["--std"] != nil {
                throw ShellError.other("data: --preset \(name) sets the mean and std; give either --preset or --mean/--std")
            }
            (preprocessing.mean, preprocessing.std) = (preset.mean, preset.std)
        }
        let normalization = try DataCommand.normalization(arguments, channels: 3)
        try DataCommand.checkNormalization(normalization, channels: 3, arguments)
        if let mean = normalization.mean { preprocessing.mean = mean.count == 1 ? [Float](repeating: mean[0], count: 3) : mean }
        if let std = normalization.std { preprocessing.std = std.count == 1 ? [Float](repeating: std[0], count: 3) : std }
        preprocessing.scale = normalization.scale
        preprocessing.bgr = arguments.has("--bgr")
        let labelsCSV = arguments["--labels"].map(session.resolve)
        if let labelsCSV, !labelsCSV.lowercased().hasSuffix(".csv") {
            throw ShellError.badValue(command: "data", option: "--labels", value: arguments["--labels"]!, expected: "a CSV of file,label for a folder of images")
        }
        let whole = try ImageList.read(directory: path, classes: arguments["--classes"].map(session.resolve), labelsCSV: labelsCSV)
        let perClass = try arguments.integer("--per-class", command: "data", range: 1...Int.max)
        let skipPerClass = try arguments.integer("--skip-per-class", command: "data", range: 0...Int.max)
        if (perClass != nil || skipPerClass != nil) && whole.classOf == nil {
            throw ShellError.other("data: --per-class and --skip-per-class need class folders; \(arguments.positionals[0]) has none")
        }
        var list = whole.selecting(skip: skip, limit: limit, skipPerClass: skipPerClass ?? 0, perClass: perClass ?? .max)
        var left = ""
        if arguments.has("--skip-unreadable") {
            let (readable, failures) = try list.withoutUnreadable(isCancelled: session.isCancelled)
            guard !readable.files.isEmpty else {
                throw PTQError.invalidData(file: path, problem: "none of its \(list.files.count) images decode (the first: \(failures.first?.1 ?? "?"))")
            }
            list = readable
            if let (file, _) = failures.first {
                left = " (left out \(failures.count) unreadable: \(displayName(file, in: path))\(failures.count > 1 ? " and \(failures.count - 1) more" : ""))"
            }
        }
        guard !list.files.isEmpty else {
            throw PTQError.invalidData(file: path, problem: "no images are left after --skip/--limit/--per-class (it holds \(whole.files.count))")
        }
        let source = try ImageFolderSamples(list: list, preprocessing: preprocessing)
        let classes = Set(list.classOf ?? []).count
        let described = "\(list.files.count) image\(list.files.count == 1 ? "" : "s")\(classes > 0 ? " of \(classes) class\(classes == 1 ? "" : "es")" : "") as \(describeShape(source.sampleShape))" + left
        return (AttachedData(path: path, source: source, labels: list.labels, purpose: purpose), described)
    }

    /// `file` relative to the folder it was found in.
    static func displayName(_ file: String, in folder: String) -> String {
        file.hasPrefix(folder + "/") ? String(file.dropFirst(folder.count + 1)) : file
    }
}
