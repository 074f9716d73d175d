import Foundation
import Testing
@testable import PTQEngine

/// Images as torchvision evaluates them, checked against PIL + torchvision's own output on committed fixtures
/// (scripts/make-image-fixtures): decoding of every JPEG/PNG variety, the resampling alone, and the whole
/// resize → crop → normalize path with folder order and labels; corrupt files are errors naming the file.
@Suite struct ImageDataTests {
    static let folder = fixtures.appendingPathComponent("images")
    static func path(_ relative: String) -> String { folder.appendingPathComponent(relative).path }

    /// An H×W×3 uint8 .npy as an RGBImage.
    static func expectedImage(_ relative: String) throws -> RGBImage {
        let tensor = try NumpyFile.read(path: path(relative))
        return RGBImage(width: tensor.shape[1], height: tensor.shape[0], pixels: tensor.integers.map { UInt8($0) })
    }

    static let decodedNames: [String] = (try? FileManager.default.contentsOfDirectory(atPath: path("decoded")).sorted()) ?? []

    @Test func everyFixtureIsHere() {
        #expect(Self.decodedNames.count == 17)
    }

    @Test(arguments: decodedNames)
    func decodesAsPILDoes(_ name: String) throws {
        let source = String(name.dropLast(4)).replacingOccurrences(of: "__", with: "/")
        let image = try ImageDecoding.decode(path: Self.path(source))
        #expect(image == (try Self.expectedImage("decoded/" + name)), "\(source)")
    }

    @Test func resamplesAsPILDoes() throws {
        let cases = try String(contentsOfFile: Self.path("resize_only/cases.txt"), encoding: .utf8).split(separator: "\n")
        #expect(cases.count == 10)
        for line in cases {
            let parts = line.split(separator: " ").map(String.init)
            let (width, height) = (Int(parts[1])!, Int(parts[2])!)
            let resized = PillowResampling.resize(try ImageDecoding.decode(path: Self.path(parts[0])), width: width, height: height)
            let name = parts[0].replacingOccurrences(of: "/", with: "__") + "__\(width)x\(height).npy"
            #expect(resized == (try Self.expectedImage("resize_only/" + name)), "\(line)")
        }
    }

    /// uint8 N×3×C×C of a list, as `ptq-bench decode` writes it.
    static func crops(_ list: ImageList, _ preprocessing: ImagePreprocessing) throws -> [Int64] {
        try list.files.flatMap { file -> [Int64] in
            let image = preprocessing.geometry(try ImageDecoding.decode(path: file))
            let plane = image.width * image.height
            return (0..<3).flatMap { channel in (0..<plane).map { Int64(image.pixels[$0 * 3 + channel]) } }
        }
    }

    @Test func folderOrderLabelsAndCropsMatchTorchvision() throws {
        let list = try ImageList.read(directory: Self.path("folder"), classes: Self.path("classes.txt"))
        #expect(list.files.map { ($0 as NSString).lastPathComponent }.prefix(4) == ["a_baseline.jpg", "b_444.JPEG", "c_422.jpeg", "d_progressive.jpg"])
        #expect(list.labels == (try NumpyFile.read(path: Self.path("folder_labels.npy"))).integers.map { Int($0) })
        for (resize, crop, file) in [(40, 32, "folder_r40_c32.npy"), (36, 36, "folder_r36_c36.npy")] {
            let expected = try NumpyFile.read(path: Self.path(file))
            #expect(try Self.crops(list, ImagePreprocessing(resize: resize, crop: crop)) == expected.integers, "\(file)")
        }
        // Without a class list: the sorted folder order.
        #expect(try ImageList.read(directory: Self.path("folder")).labels == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    }

    @Test func normalizedSamplesMatchTorchvisionBitForBit() throws {
        let list = try ImageList.read(directory: Self.path("folder"), classes: Self.path("classes.txt"))
        var preprocessing = ImagePreprocessing(resize: 40, crop: 32)
        let imagenet = ImagePreprocessing.presets.first { $0.name == "imagenet" }!
        (preprocessing.mean, preprocessing.std) = (imagenet.mean, imagenet.std)
        let source = try ImageFolderSamples(list: list, preprocessing: preprocessing)
        let expected = try NumpyFile.read(path: Self.path("folder_r40_c32_imagenet.npy"))
        let batch = try source.samples(0..<source.count)
        #expect(batch.shape == expected.shape && batch.floats.map(\.bitPattern) == expected.floats.map(\.bitPattern))
        // A batch in the middle is those samples of the whole.
        #expect(try source.samples(3..<7).floats == Batching.slice(batch, 3..<7).floats)
        // pm1 is (x/255)*2-1 exactly.
        let pm1 = ImagePreprocessing.presets.first { $0.name == "pm1" }!
        (preprocessing.mean, preprocessing.std) = (pm1.mean, pm1.std)
        let unit = try Self.crops(list, ImagePreprocessing(resize: 40, crop: 32))
        let signed = try ImageFolderSamples(list: list, preprocessing: preprocessing).samples(0..<list.files.count)
        #expect(signed.floats == unit.map { Float($0) / 255 * 2 - 1 })
    }

    @Test func flatFolderTakesTheCSVLabelsInSortedOrder() throws {
        let list = try ImageList.read(directory: Self.path("flat"), labelsCSV: Self.path("flat/labels.csv"))
        #expect(list.files.map { ($0 as NSString).lastPathComponent } == ["Photo.JPEG", "img_03.jpg", "img_10.png", "img_2.jpg", "z_grey16.png"])
        #expect(list.labels == (try NumpyFile.read(path: Self.path("flat_labels.npy"))).integers.map { Int($0) })
        #expect(try Self.crops(list, ImagePreprocessing(resize: 40, crop: 32)) == (try NumpyFile.read(path: Self.path("flat_r40_c32.npy"))).integers)
        #expect(try ImageList.read(directory: Self.path("flat")).labels == nil)
    }

    @Test func perClassSelectionSplitsOneFolder() throws {
        let list = try ImageList.read(directory: Self.path("folder"))
        let calibration = list.selecting(perClass: 1), evaluation = list.selecting(skipPerClass: 1)
        #expect(calibration.files.count == 3 && evaluation.files.count == 9)
        #expect(Set(calibration.files).isDisjoint(with: evaluation.files))
        #expect(list.selecting(skip: 2, limit: 3).files == Array(list.files[2..<5]))
    }

    @Test(arguments: [("b.jpg", "could not be decoded as JPEG"), ("c.jpg", "is not a JPEG or PNG image"), ("d.png", "is empty")])
    func corruptFilesAreErrorsNamingThem(_ name: String, _ problem: String) throws {
        let file = Self.path("corrupt/c/" + name)
        do {
            _ = try ImageDecoding.decode(path: file)
            Issue.record("\(name) decoded")
        } catch {
            let message = "\(error)"
            #expect(message.contains(file) && message.contains(problem), "\(message)")
        }
        let list = try ImageList.read(directory: Self.path("corrupt"))
        let source = try ImageFolderSamples(list: list, preprocessing: ImagePreprocessing(resize: 40, crop: 32))
        #expect(throws: PTQError.self) { try source.samples(0..<list.files.count) }
    }

    @Test func torchvisionSizesAndOffsets() {
        #expect(ImagePreprocessing.resizedSize(width: 500, height: 375, shorter: 256) == (341, 256))
        #expect(ImagePreprocessing.resizedSize(width: 375, height: 500, shorter: 256) == (256, 341))
        // round((H - C) / 2) with ties to even: 2.5 -> 2, 5.5 -> 6, 0.5 -> 0.
        #expect([5, 11, 1, 4].map { ImagePreprocessing.roundHalfEven(twice: $0) } == [2, 6, 0, 2])
    }

    /// Damage PIL refuses is refused (a bad checksum in a critical chunk, a decompression bomb), and what PIL
    /// tolerates is tolerated (a PNG that stops after its image data, with no IEND).
    @Test func damageAsPILJudgesIt() throws {
        let png = try Data(contentsOf: URL(fileURLWithPath: Self.path("folder/n01770393/c_rgb.png")))
        var badChecksum = [UInt8](png)
        badChecksum[30] ^= 0xFF  // inside IHDR's CRC (8 signature + 8 chunk header + 13 data bytes before it)
        #expect(throws: PTQError.self) { try ImageDecoding.decode(Data(badChecksum), name: "bad-crc.png") }
        let withoutEnd = png.prefix(png.count - 12)  // IEND is the last 12 bytes
        #expect(try ImageDecoding.decode(withoutEnd, name: "no-iend.png") == (try Self.expectedImage("decoded/folder__n01770393__c_rgb.png.npy")))
        var jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.path("folder/n01443537/a_baseline.jpg"))))
        let frame = try #require((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        for offset in [5, 7] { (jpeg[frame + offset], jpeg[frame + offset + 1]) = (0xEA, 0x60) }  // height and width 60000
        do {
            _ = try ImageDecoding.decode(Data(jpeg), name: "bomb.jpg")
            Issue.record("a 60000x60000 JPEG decoded")
        } catch {
            #expect("\(error)".contains("bomb.jpg") && "\(error)".contains("over the limit of 178956970"), "\(error)")
        }
    }
}
