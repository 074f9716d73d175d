import Dispatch
import Foundation

/// A folder of images as samples: each batch decoded, resized, cropped and normalized on all cores when asked for.
public struct ImageFolderSamples: SampleSource {
    public let list: ImageList
    public let preprocessing: ImagePreprocessing
    public let sampleShape: [Int]
    public var count: Int { list.files.count }

    /// Decodes the first image to learn the sample shape when there is no crop (every image must then give it).
    public init(list: ImageList, preprocessing: ImagePreprocessing) throws {
        self.list = list
        self.preprocessing = preprocessing
        if let crop = preprocessing.crop {
            sampleShape = [3, crop, crop]
        } else if let first = list.files.first {
            let image = preprocessing.geometry(try ImageDecoding.decode(path: first))
            sampleShape = [3, image.height, image.width]
        } else {
            sampleShape = [3, 0, 0]
        }
    }

    public func samples(_ range: Range<Int>) throws -> Tensor {
        let perSample = sampleShape.reduce(1, *)
        var values = [Float](repeating: 0, count: range.count * perSample)
        let failures = FailureList()
        values.withUnsafeMutableBufferPointer { buffer in
            let base = UnsafeMutableSendablePointer(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: range.count) { offset in
                let path = list.files[range.lowerBound + offset]
                do {
                    let image = preprocessing.geometry(try ImageDecoding.decode(path: path))
                    guard [3, image.height, image.width] == sampleShape else {
                        throw PTQError.invalidData(file: path, problem: "gives a \(image.width)x\(image.height) image where the others give "
                            + "\(sampleShape[2])x\(sampleShape[1]); pass --crop (and --resize) to make every image one size")
                    }
                    preprocessing.normalize(image, into: base.pointer + offset * perSample)
                } catch {
                    failures.add(offset, error)
                }
            }
        }
        if let (_, error) = failures.first { throw error }
        return Tensor(shape: [range.count] + sampleShape, floats: values)
    }
}
