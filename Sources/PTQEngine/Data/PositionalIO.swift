import Foundation

/// Reading and writing a whole buffer at a file offset (pread/pwrite return short counts; these loop).
enum PositionalIO {
    /// Reads `buffer.count` bytes at `offset`; returns how many were read (fewer at end of file or on an error,
    /// with `errno` set).
    static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var done = 0
        while done < buffer.count {
            let read = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            guard read > 0 else { break }
            done += read
        }
        return done
    }

    /// Writes `buffer` at `offset`; returns how many bytes were written (fewer on an error, with `errno` set).
    static func write(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int) -> Int {
        var done = 0
        while done < buffer.count {
            let written = pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            guard written > 0 else { break }
            done += written
        }
        return done
    }
}
