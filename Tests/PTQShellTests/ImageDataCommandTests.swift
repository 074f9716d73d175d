import Foundation
import Testing
import PTQEngine
@testable import PTQShell

/// `data FOLDER` in the shell: what it attaches and says, its refusals, and --skip-unreadable.
@Suite struct ImageDataCommandTests {
    let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PTQEngineTests/Fixtures/images").path

    final class TextBox { var text = "" }

    func run(_ lines: [String]) -> (Interpreter, String, Bool) {
        let box = TextBox()
        let interpreter = Interpreter(session: Session(baseDirectory: images), write: { box.text += $0 }, writeError: { box.text += $0 })
        let result = interpreter.runLines(lines, file: nil, keepGoing: true)
        return (interpreter, box.text, result.succeeded)
    }

    @Test func attachesAFolderWithItsLabels() throws {
        let (interpreter, text, succeeded) = run(["data folder --classes classes.txt --resize 40 --crop 32 --preset imagenet --skip-per-class 1"])
        #expect(succeeded, "\(text)")
        #expect(text == "attached 9 images of 3 classes as [3, 32, 32] with labels for calibration and evaluation\n")
        let data = try #require(interpreter.session.evaluationData)
        #expect(data.labels == [2, 2, 2, 4, 4, 4, 0, 0, 0])
        #expect(try data.source.samples(0..<2).shape == [2, 3, 32, 32])
    }

    @Test(arguments: [
        ("data folder --preset vivid", "--preset"),
        ("data folder --preset pm1 --mean 0.5", "--preset pm1 sets the mean and std"),
        ("data folder --key x", "--key applies to .npy/.npz files"),
        ("data flat --per-class 1", "need class folders"),
        ("data folder --labels labels.npy", "a CSV of file,label"),
        ("data folder --classes flat/labels.csv", "is a class folder that"),
        ("data folder --skip 99", "no images are left"),
        ("data classes.txt --crop 32", "--crop applies to a folder of images"),
        ("data ../../../../models/evaluation.npy --skip 5000", "no samples are left after --skip/--limit (it holds 2000)"),
    ])
    func refusals(_ line: String, _ expected: String) {
        let (interpreter, text, succeeded) = run([line])
        #expect(!succeeded && text.contains(expected), "\(text)")
        #expect(interpreter.session.evaluationData == nil && interpreter.session.calibrationData == nil)
    }

    @Test func unreadableImagesAreLeftOutOnlyWhenAsked() {
        let (_, text, succeeded) = run(["data corrupt --crop 8 --skip-unreadable --for calibration"])
        #expect(succeeded && text == "attached 1 image of 1 class as [3, 8, 8] (left out 3 unreadable: c/b.jpg and 2 more) with labels for calibration\n", "\(text)")
    }

    /// .npy samples are read a batch at a time; their labels follow --skip and --limit, and a label file of any
    /// other length is refused rather than cut.
    @Test func arraysStreamAndLabelsFollowSkipAndLimit() throws {
        let models = URL(fileURLWithPath: images).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models").path
        let (interpreter, text, succeeded) = run(["data \(models)/evaluation.npy --labels \(models)/evaluation_labels.npy --skip 100 --limit 50"])
        #expect(succeeded, "\(text)")
        let data = try #require(interpreter.session.evaluationData)
        #expect(data.source is NumpySamples && data.source.count == 50)
        let labels = try NumpyFile.read(path: models + "/evaluation_labels.npy").integers.map { Int($0) }
        #expect(data.labels == Array(labels[100..<150]))
        let whole = try NumpyFile.read(path: models + "/evaluation.npy")
        #expect(try data.source.samples(0..<3).floats == Batching.slice(whole, 100..<103).asFloats.map { $0 * Float(1.0 / 255.0 as Double) })
        let (_, refused, ok) = run(["data \(models)/calibration.npy --labels \(models)/evaluation_labels.npy --limit 50"])
        #expect(!ok && refused.contains("2000 labels for 50 samples"), "\(refused)")
    }
}
