import Foundation

/// The progress line long commands show on a terminal: a label (what is running: which model, which layer), a bar,
/// the count, the time since the work started and an estimate of the time left. A label "task — detail" keeps
/// the task's clock while the detail changes. Drawn only after the work
/// has run `delay` seconds (short commands show nothing) and at most `interval` apart; `finish` or a new label
/// replaces it. Never part of command output: `draw` writes to the terminal's error stream only.
public final class ProgressBar: @unchecked Sendable {
    public let delay: Double
    public let interval: Double
    private let clock: () -> Double
    private let draw: (String) -> Void
    private let lock = NSLock()
    private var label: String?
    private var started = 0.0
    private var lastDrawn = -Double.infinity
    /// Whether a line is on screen now (anything else written must clear it first).
    public private(set) var isVisible = false

    public init(delay: Double = 1, interval: Double = 0.1, clock: @escaping () -> Double = { Date().timeIntervalSinceReferenceDate },
                draw: @escaping (String) -> Void) {
        (self.delay, self.interval, self.clock, self.draw) = (delay, interval, clock, draw)
    }

    /// Reports `done` of `total` for `label`.
    public func update(_ label: String, done: Int, total: Int, width: Int = 100) {
        lock.withLock {
            let now = clock()
            // The task is the label before " — " (what follows is a detail, such as the layer, that may change).
            let task = label.components(separatedBy: " — ")[0]
            if task != self.label { (self.label, started, lastDrawn) = (task, now, -Double.infinity) }
            if done >= total {
                clearLocked()
                self.label = nil
                return
            }
            guard now - started >= delay, now - lastDrawn >= interval else { return }
            lastDrawn = now
            isVisible = true
            draw("\r" + Self.line(label: label, done: done, total: total, elapsed: now - started, width: width) + "\u{1B}[K")
        }
    }

    /// Removes the line, so what is written next starts on a clean line; the next update starts a new clock (work
    /// that was cancelled must not leave its start time to the next command).
    public func clear() {
        lock.withLock {
            clearLocked()
            label = nil
        }
    }

    private func clearLocked() {
        if isVisible { draw("\r\u{1B}[K") }
        isVisible = false
    }

    /// `label [#####.....] done/total  0:12 elapsed, 0:30 left` in fewer than `width` columns (the label cut if need be).
    public static func line(label: String, done: Int, total: Int, elapsed: Double, width: Int) -> String {
        let fraction = total > 0 ? min(1, max(0, Double(done) / Double(total))) : 0
        let remaining = done > 0 ? elapsed * Double(total - done) / Double(done) : nil
        let tail = " \(done)/\(total)  \(clockTime(elapsed)) elapsed, " + (remaining.map { clockTime($0) + " left" } ?? "estimating")
        // The tail stays whole; the bar takes 10 to 30 columns; a label too long for the rest is cut.
        let room = max(10, width - 1 - tail.count - 3)
        let barWidth = max(10, min(30, room - label.count))
        let shown = label.count <= room - barWidth ? label : String(label.prefix(max(1, room - barWidth - 1))) + "…"
        let filled = Int(fraction * Double(barWidth))
        return "\(shown) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]" + tail
    }

    /// 0:07, 12:34, 1:02:03.
    static func clockTime(_ seconds: Double) -> String {
        let total = Int(seconds.rounded()), hours = total / 3600, minutes = (total / 60) % 60, rest = total % 60
        let padded = rest < 10 ? "0\(rest)" : "\(rest)"
        if hours > 0 { return "\(hours):" + (minutes < 10 ? "0\(minutes)" : "\(minutes)") + ":" + padded }
        return "\(minutes):" + padded
    }
}
