import CImageCodecs
import Foundation

/// An 8-bit RGB image, rows top to bottom, pixels interleaved (height × width × 3), as PIL's `convert("RGB")` gives.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// JPEG and PNG files decoded to RGB the way PIL opens and converts them (libjpeg-turbo, libpng; the details of
/// colour conversion are in CImageCodecs). The format is taken from the file's first bytes, not its extension.
public enum ImageDecoding {
    public static let extensions: Set<String> = ["jpg", "jpeg", "jpe", "png"]

    public static func decode(path: String) throws -> RGBImage {
        let data = try FileReading.contents(of: path, expected: "a JPEG or PNG image")
        return try decode(data, name: path)
    }

    public static func decode(_ data: Data, name: String) throws -> RGBImage {
        let head = [UInt8](data.prefix(8))
        guard !head.isEmpty else { throw PTQError.invalidData(file: name, problem: "is empty; expected a JPEG or PNG image") }
        let isJPEG = head.starts(with: [0xFF, 0xD8, 0xFF])
        let isPNG = head.starts(with: [0x89, 0x50, 0x4E, 0x47])
        guard isJPEG || isPNG else {
            let shown = head.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw PTQError.invalidData(file: name, problem: "is not a JPEG or PNG image (it starts with bytes \(shown); expected ff d8 ff or 89 50 4e 47)")
        }
        var image = ptq_image()
        let status = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return isJPEG ? ptq_decode_jpeg(bytes.baseAddress, bytes.count, &image) : ptq_decode_png(bytes.baseAddress, bytes.count, &image)
        }
        defer { ptq_image_free(&image) }
        guard status == 0, let pixels = image.pixels else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw PTQError.invalidData(file: name, problem: "could not be decoded as \(isJPEG ? "JPEG" : "PNG"): \(message.isEmpty ? "unknown error" : message)")
        }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0 else {
            throw PTQError.invalidData(file: name, problem: "has no pixels (\(width)x\(height))")
        }
        return RGBImage(width: width, height: height, pixels: Array(UnsafeBufferPointer(start: pixels, count: width * height * 3)))
    }
}
