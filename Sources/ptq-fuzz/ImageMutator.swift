import Foundation

/// Mutations of image files for `data FOLDER`: small valid JPEGs (baseline and progressive) and a palette PNG,
/// truncated, with bytes flipped or overwritten, emptied or replaced by text, in a class folder with valid ones.
enum ImageMutator {
    /// 13x9 baseline JPEG, 13x9 progressive JPEG, 10x7 palette PNG (made by PIL, base64).
    static let seeds: [Data] = [
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYn" +
        "KSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo" +
        "KCgoKCgoKCj/wAARCAAJAA0DASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUF" +
        "BAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVW" +
        "V1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi" +
        "4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAEC" +
        "AxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVm" +
        "Z2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq" +
        "8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCzBBaRWZur3T4PLSbe8VvOBLAkRUMW2sFBSTYx2cbmY8ElDk6pfahEtjJYPLYRtbCMMXU+" +
        "cFdsOPmRec7jtzyxzzWn476+J/8Aryvv/SqCt/4ff8hK/wD+vGx/lLWdKq4YeOIezXNZNrduNr312v6nJlVSOOrLmXLrJe7ps5bX" +
        "Ttt92nY//9k=",
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYn" +
        "KSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo" +
        "KCgoKCgoKCj/wgARCAAJAA0DASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAABAP/xAAVAQEBAAAAAAAAAAAAAAAAAAACA//a" +
        "AAwDAQACEAMQAAABoRTzH//EABoQAAICAwAAAAAAAAAAAAAAAAECAAMEBTP/2gAIAQEAAQUCAUJa9gmdNf0//8QAGxEAAQQDAAAA" +
        "AAAAAAAAAAAAAgABITEDBIH/2gAIAQMBAT8B1SbOcxddX//EABoRAAICAwAAAAAAAAAAAAAAAAIDAAERgcH/2gAIAQIBAT8BEsLp" +
        "m+T/xAAhEAABAwIHAQAAAAAAAAAAAAACAAEREnIDBCExcbLB4f/aAAgBAQAGPwKo8NonYX1aPqBwkGpjlZmw+zI7A9X/xAAdEAAD" +
        "AAEFAQAAAAAAAAAAAAABESExABBBUWFx/9oACAEBAAE/IZyTmFRtFRDOSfmghpVGMSbkD2d77vf/2gAMAwEAAgADAAAAENf/xAAb" +
        "EQACAQUAAAAAAAAAAAAAAAABMREAIUFRkf/aAAgBAwEBPxAQgwYIpIMLltV//8QAGREBAAMBAQAAAAAAAAAAAAAAAREhMQBx/9oA" +
        "CAECAQE/EHYxKCmrCZvJ97//xAAbEAEAAgIDAAAAAAAAAAAAAAABESEAMUFR8P/aAAgBAQABPxB9Sro+FADNayKVYI8hNCEeVMrW" +
        "pvN8z6nWf//Z",
        "iVBORw0KGgoAAAANSUhEUgAAAAoAAAAHCAMAAAAGcixRAAACplBMVEUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAz" +
        "AABmAACZAADMAAD/AAAAMwAzMwBmMwCZMwDMMwD/MwAAZgAzZgBmZgCZZgDMZgD/ZgAAmQAzmQBmmQCZmQDMmQD/mQAAzAAzzABm" +
        "zACZzADMzAD/zAAA/wAz/wBm/wCZ/wDM/wD//wAAADMzADNmADOZADPMADP/ADMAMzMzMzNmMzOZMzPMMzP/MzMAZjMzZjNmZjOZ" +
        "ZjPMZjP/ZjMAmTMzmTNmmTOZmTPMmTP/mTMAzDMzzDNmzDOZzDPMzDP/zDMA/zMz/zNm/zOZ/zPM/zP//zMAAGYzAGZmAGaZAGbM" +
        "AGb/AGYAM2YzM2ZmM2aZM2bMM2b/M2YAZmYzZmZmZmaZZmbMZmb/ZmYAmWYzmWZmmWaZmWbMmWb/mWYAzGYzzGZmzGaZzGbMzGb/" +
        "zGYA/2Yz/2Zm/2aZ/2bM/2b//2YAAJkzAJlmAJmZAJnMAJn/AJkAM5kzM5lmM5mZM5nMM5n/M5kAZpkzZplmZpmZZpnMZpn/ZpkA" +
        "mZkzmZlmmZmZmZnMmZn/mZkAzJkzzJlmzJmZzJnMzJn/zJkA/5kz/5lm/5mZ/5nM/5n//5kAAMwzAMxmAMyZAMzMAMz/AMwAM8wz" +
        "M8xmM8yZM8zMM8z/M8wAZswzZsxmZsyZZszMZsz/ZswAmcwzmcxmmcyZmczMmcz/mcwAzMwzzMxmzMyZzMzMzMz/zMwA/8wz/8xm" +
        "/8yZ/8zM/8z//8wAAP8zAP9mAP+ZAP/MAP//AP8AM/8zM/9mM/+ZM//MM///M/8AZv8zZv9mZv+ZZv/MZv//Zv8Amf8zmf9mmf+Z" +
        "mf/Mmf//mf8AzP8zzP9mzP+ZzP/MzP//zP8A//8z//9m//+Z///M//////91g91EAAAAWElEQVR4nAFNALL/ADKhIF89s1KWhKMA" +
        "Kd1Zjn9roD2I3wBbkkB0bxqRljBJAE8UpNI/j93V020AgD5YqN8y1CWKfQBTx5duHkN3zaIWALivKLbXRK9gZorjOyF63hrOqQAA" +
        "AABJRU5ErkJggg==",
    ].map { Data(base64Encoded: $0)! }

    /// Writes 1 to 4 images into `folder` (some valid, at least one mutated); returns what was done.
    static func writeFolder(_ folder: String, random: inout FuzzRandom) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var changes: [String] = []
        for index in 0..<(1 + random.below(4)) {
            let seed = random.below(seeds.count)
            var bytes = seeds[seed]
            let name = "\(index)" + (seed == 2 ? ".png" : (random.chance(20) ? ".JPEG" : ".jpg"))
            if index == 0 || random.chance(50) {
                let change: String
                (bytes, change) = mutate(bytes, random: &random)
                changes.append("\(name) \(change)")
            }
            try bytes.write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        return changes.joined(separator: "; ")
    }

    static func mutate(_ original: Data, random: inout FuzzRandom) -> (Data, String) {
        var bytes = [UInt8](original)
        switch random.below(7) {
        case 0:
            let keep = random.below(bytes.count)
            return (Data(bytes.prefix(keep)), "truncated to \(keep) bytes")
        case 1:
            let count = 1 + random.below(8)
            for _ in 0..<count { bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8)) }
            return (Data(bytes), "\(count) bits flipped")
        case 2:
            let start = random.below(bytes.count), length = min(bytes.count - start, 1 + random.below(16))
            for offset in 0..<length { bytes[start + offset] = UInt8(random.below(256)) }
            return (Data(bytes), "\(length) bytes at \(start) overwritten")
        case 3:
            // Header fields: the dimensions and component counts sit in the first 200 bytes of both formats.
            let position = random.below(min(200, bytes.count))
            bytes[position] = [0, 0xFF, 0x7F, 0x80, 1][random.below(5)]
            return (Data(bytes), "header byte \(position) set")
        case 4:
            return (Data(), "emptied")
        case 5:
            return (Data("not an image\n".utf8), "replaced by text")
        default:
            let position = random.below(bytes.count)
            bytes.insert(contentsOf: (0..<(1 + random.below(32))).map { _ in UInt8(random.below(256)) }, at: position)
            return (Data(bytes), "bytes inserted at \(position)")
        }
    }
}
