/// What torchvision's evaluation transform does to a PIL image, step for step, so that a folder of images
/// becomes the tensors a model was measured on: `Resize(resize)` (shorter side to `resize`, the other
/// int(resize · long / short), PIL bilinear with antialiasing), `CenterCrop(crop)` (offsets round((H − crop)/2) with
/// Python's round-half-to-even; zero padding first when the image is smaller), `ToTensor` (x / 255 in float32),
/// `Normalize(mean, std)` ((x − mean) / std in float32). `bgr` reverses the channels before normalizing (mean
/// and std are then in B, G, R order). `scale` other than 1/255 multiplies instead of dividing by 255 (Caffe-style
/// models take 0…255).
public struct ImagePreprocessing: Sendable, Equatable {
    public var resize: Int?
    public var crop: Int?
    public var mean: [Float] = [0, 0, 0]
    public var std: [Float] = [1, 1, 1]
    public var scale: Float? = nil
    public var bgr = false

    public init(resize: Int? = nil, crop: Int? = nil) {
        self.resize = resize
        self.crop = crop
    }

    /// Normalization presets: (mean, std) after x / 255.
    public static let presets: [(name: String, mean: [Float], std: [Float], description: String)] = [
        ("imagenet", [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], "torchvision's ImageNet mean and std"),
        ("pm1", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], "x/255*2-1, values in [-1, 1] (TF-converted models: EfficientNet-Lite, Inception)"),
        ("unit", [0, 0, 0], [1, 1, 1], "x/255, values in [0, 1]"),
    ]

    /// The (width, height) torchvision's Resize(resize) gives an image of width × height.
    public static func resizedSize(width: Int, height: Int, shorter: Int) -> (Int, Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(shorter * long) / Double(short))
        return width <= height ? (shorter, newLong) : (newLong, shorter)
    }

    /// Python's round() on a half-integer or integer value given as numerator / 2: ties go to the even integer.
    static func roundHalfEven(twice value: Int) -> Int {
        let floorHalf = value >= 0 ? value / 2 : -((-value + 1) / 2)
        guard value % 2 != 0 else { return floorHalf }
        return floorHalf % 2 == 0 ? floorHalf : floorHalf + 1
    }

    /// The image after resizing and cropping, still 8-bit.
    public func geometry(_ image: RGBImage) -> RGBImage {
        var current = image
        if let resize {
            let (width, height) = Self.resizedSize(width: image.width, height: image.height, shorter: resize)
            current = PillowResampling.resize(current, width: width, height: height)
        }
        guard let crop else { return current }
        if crop > current.width || crop > current.height {
            current = Self.pad(current, width: max(crop, current.width), height: max(crop, current.height))
        }
        let top = Self.roundHalfEven(twice: current.height - crop), left = Self.roundHalfEven(twice: current.width - crop)
        var pixels = [UInt8](repeating: 0, count: crop * crop * 3)
        for y in 0..<crop {
            let source = ((top + y) * current.width + left) * 3
            pixels.replaceSubrange(y * crop * 3..<(y + 1) * crop * 3, with: current.pixels[source..<source + crop * 3])
        }
        return RGBImage(width: crop, height: crop, pixels: pixels)
    }

    /// torchvision's CenterCrop padding: (extra / 2) zeros on the left/top, the rest on the right/bottom.
    static func pad(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let left = (width - image.width) / 2, top = (height - image.height) / 2
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<image.height {
            let target = ((top + y) * width + left) * 3
            pixels.replaceSubrange(target..<target + image.width * 3,
                                   with: image.pixels[y * image.width * 3..<(y + 1) * image.width * 3])
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Writes the image as 3 × H × W floats at `output`.
    public func normalize(_ image: RGBImage, into output: UnsafeMutablePointer<Float>) {
        let plane = image.width * image.height
        image.pixels.withUnsafeBufferPointer { pixels in
            for channel in 0..<3 {
                let source = bgr ? 2 - channel : channel
                let mean = self.mean[channel], std = self.std[channel]
                let target = output + channel * plane
                if let scale {
                    for index in 0..<plane { target[index] = (Float(pixels[index * 3 + source]) * scale - mean) / std }
                } else {
                    for index in 0..<plane { target[index] = (Float(pixels[index * 3 + source]) / 255 - mean) / std }
                }
            }
        }
    }
}
