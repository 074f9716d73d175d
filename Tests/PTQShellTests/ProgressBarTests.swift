import Foundation
import Testing
@testable import PTQShell

/// The progress line: nothing for short work, then a labelled bar with elapsed time and what is left, drawn at most
/// every interval, cleared when the work ends or when anything else is written.
@Suite struct ProgressBarTests {
    final class Screen: @unchecked Sendable {
        var now = 0.0
        var writes: [String] = []
    }

    @Test func drawsOnlyAfterTheDelayAndClearsAtTheEnd() {
        let screen = Screen()
        let bar = ProgressBar(delay: 1, interval: 0.1, clock: { screen.now }) { screen.writes.append($0) }
        bar.update("eval: FP32 (loaded)", done: 32, total: 320, width: 80)
        screen.now = 0.5
        bar.update("eval: FP32 (loaded)", done: 64, total: 320, width: 80)
        #expect(screen.writes.isEmpty && !bar.isVisible)
        screen.now = 2
        bar.update("eval: FP32 (loaded)", done: 160, total: 320, width: 80)
        #expect(screen.writes == ["\r" + ProgressBar.line(label: "eval: FP32 (loaded)", done: 160, total: 320, elapsed: 2, width: 80) + "\u{1B}[K"])
        screen.now = 2.05
        bar.update("eval: FP32 (loaded)", done: 192, total: 320, width: 80)
        #expect(screen.writes.count == 1)  // within the interval
        bar.update("eval: FP32 (loaded)", done: 320, total: 320, width: 80)
        #expect(screen.writes.last == "\r\u{1B}[K" && !bar.isVisible)
        bar.clear()
        #expect(screen.writes.count == 2)  // nothing on screen: nothing to clear
    }

    /// A command cancelled mid-way leaves no clock behind: after the line is cleared, the same task starts afresh.
    @Test func aClearedLineRestartsTheClock() {
        let screen = Screen()
        let bar = ProgressBar(delay: 1, interval: 0, clock: { screen.now }) { screen.writes.append($0) }
        bar.update("eval: FP32 (loaded)", done: 1, total: 10, width: 100)
        screen.now = 2
        bar.update("eval: FP32 (loaded)", done: 2, total: 10, width: 100)
        bar.clear()
        screen.now = 300
        bar.update("eval: FP32 (loaded)", done: 1, total: 10, width: 100)
        #expect(screen.writes.count == 2)  // the drawn line and its clearing; nothing new before a second has passed
        screen.now = 301.5
        bar.update("eval: FP32 (loaded)", done: 2, total: 10, width: 100)
        #expect(screen.writes.last?.contains("0:02 elapsed") == true, "\(screen.writes)")
    }

    @Test func aDetailKeepsTheTaskClock() {
        let screen = Screen()
        let bar = ProgressBar(delay: 1, interval: 0, clock: { screen.now }) { screen.writes.append($0) }
        bar.update("bias correction — layer 1 of 3, conv1", done: 0, total: 30, width: 100)
        screen.now = 3
        bar.update("bias correction — layer 2 of 3, conv2", done: 10, total: 30, width: 100)
        #expect(screen.writes.count == 1 && screen.writes[0].contains("0:03 elapsed, 0:06 left"))
        screen.now = 4
        bar.update("calibrating (minmax) on 512 samples", done: 10, total: 100, width: 100)
        #expect(screen.writes.count == 1)  // a new task starts its own delay
    }

    @Test func theLineFitsTheWidth() {
        let line = ProgressBar.line(label: "eval: FP32 (loaded) and W8A8", done: 25_000, total: 50_000, elapsed: 3723, width: 80)
        #expect(line == "eval: FP32 (loaded) an… [#####.....] 25000/50000  1:02:03 elapsed, 1:02:03 left")
        #expect(line.count == 79)
        #expect(ProgressBar.line(label: "eval", done: 1, total: 2, elapsed: 5, width: 100) == "eval [###############...............] 1/2  0:05 elapsed, 0:05 left")
        #expect(ProgressBar.line(label: "x", done: 0, total: 10, elapsed: 0.2, width: 100).hasSuffix("0/10  0:00 elapsed, estimating"))
    }
}
