import Foundation

/// Runs a campaign's cases in worker processes, restarting a worker after a crash or a hang, and
/// keeps every failing case.
final class FuzzCampaign {
    init(seed: UInt64, cases: Int, kinds: [FuzzKind], kindOf: @escaping (Int) -> FuzzKind, outFolder: String, timeout: Double) {
        (self.seed, self.cases, self.kinds, self.kindOf, self.outFolder, self.timeout) = (seed, cases, kinds, kindOf, outFolder, timeout)
    }
    private var depth = (succeeded: 0, total: 0)

    struct Failure {
        var index: Int
        var kind: String  // crash, hang or unrendered
        var detail: String
    }

    struct Result {
        var seed: UInt64
        var kinds: [FuzzKind]
        var cases: Int
        var failures: [Failure]
        var seconds: Double
        /// Commands that succeeded and commands run, over all cases: how far mutated inputs got.
        var succeededCommands = 0
        var commands = 0

        func count(_ kind: String) -> Int { failures.filter { $0.kind == kind }.count }
        var summary: String {
            var lines = ["ptq-fuzz seed \(seed), \(cases) cases (\(kinds.map(\.rawValue).joined(separator: ", "))) in "
                         + String(format: "%.1f", seconds) + " s: \(count("crash")) crashes, \(count("hang")) hangs, "
                         + "\(count("unrendered")) unrendered errors; \(succeededCommands) of \(commands) commands succeeded"]
            for failure in failures {
                lines.append("  case \(failure.index): \(failure.kind): \(failure.detail)")
            }
            return lines.joined(separator: "\n")
        }
        var ledgerLine: String {
            "\(seed)\t\(kinds.map(\.rawValue).joined(separator: ","))\t\(cases)\t\(count("crash"))\t\(count("hang"))\t"
                + "\(count("unrendered"))\t" + String(format: "%.0f", seconds)
        }
    }

    var seed: UInt64
    var cases: Int
    var kinds: [FuzzKind]
    var kindOf: (Int) -> FuzzKind
    var outFolder: String
    var timeout: Double

    func run() -> Result {
        let started = Date()
        var failures: [Failure] = []
        var next = 0
        depth = (0, 0)
        while next < cases {
            let (reached, failure, unrendered) = runWorker(from: next)
            failures += unrendered
            if let failure {
                failures.append(failure)
                keep(failure)
                next = failure.index + 1
            } else {
                next = reached
            }
        }
        failures.sort { $0.index < $1.index }
        return Result(seed: seed, kinds: kinds, cases: cases, failures: failures, seconds: Date().timeIntervalSince(started),
                      succeededCommands: depth.succeeded, commands: depth.total)
    }

    /// Runs one worker from `from`; returns where it got to and the crash or hang that ended it.
    /// Unrendered errors are kept as they come and do not stop the worker.
    private func runWorker(from: Int) -> (Int, Failure?, [Failure]) {
        var unrendered: [Failure] = []
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0])
        process.arguments = ["--worker", "--seed", "\(seed)", "--cases", "\(cases)", "--from", "\(from)",
                             "--to", "\(cases)", "--kind", kinds.count > 1 ? "all" : kinds[0].rawValue, "--out", outFolder]
        let pipe = Pipe()
        process.standardOutput = pipe
        let stderrPath = "\(outFolder)/worker.stderr"
        try? FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath) ?? FileHandle.nullDevice
        let lines = LineBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in lines.append(handle.availableData) }
        do { try process.run() } catch {
            fatalError("ptq-fuzz: cannot start a worker: \(error)")
        }
        var current: Int? = nil
        var currentStart = Date()
        var reached = from
        while true {
            for line in lines.take() {
                let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
                guard parts.count >= 2, let index = Int(parts[1]) else { continue }
                if parts[0] == "start" {
                    current = index
                    currentStart = Date()
                } else if parts[0] == "done" {
                    current = nil
                    reached = index + 1
                    if parts.count == 3 {
                        let fields = parts[2].split(separator: " ", maxSplits: 2)
                        let counts = fields.count > 1 ? fields[1].split(separator: "/").compactMap { Int($0) } : []
                        if counts.count == 2 { depth.succeeded += counts[0]; depth.total += counts[1] }
                    }
                    if parts.count == 3, parts[2].hasPrefix("unrendered") {
                        let failure = Failure(index: index, kind: "unrendered", detail: String(parts[2].split(separator: " ", maxSplits: 2).last ?? ""))
                        keep(failure)
                        unrendered.append(failure)
                    }
                }
            }
            if !process.isRunning {
                pipe.fileHandleForReading.readabilityHandler = nil
                // Lines written just before the exit.
                lines.append(pipe.fileHandleForReading.readDataToEndOfFile())
                for line in lines.take() where line.hasPrefix("done ") {
                    let parts = line.split(separator: " ")
                    if parts.count >= 2, let index = Int(parts[1]) { reached = index + 1; if current == index { current = nil } }
                }
                if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0, let current {
                    return (reached, Failure(index: current, kind: "crash", detail: "worker died (status \(process.terminationStatus)): \(trapMessage(stderrPath))"), unrendered)
                }
                return (max(reached, current.map { $0 + 1 } ?? reached), nil, unrendered)
            }
            if let current, Date().timeIntervalSince(currentStart) > timeout {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                pipe.fileHandleForReading.readabilityHandler = nil
                return (reached, Failure(index: current, kind: "hang", detail: "still running after \(Int(timeout)) s"), unrendered)
            }
            usleep(2_000)
        }
    }

    /// The runtime's last words ("Fatal error: ..."), from the worker's standard error.
    private func trapMessage(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").last { $0.contains("Fatal error") || $0.contains("error:") }
        return line.map { String($0.suffix(300)) } ?? "no message"
    }

    /// Writes a failing case out again under OUT/failures, with what went wrong.
    private func keep(_ failure: Failure) {
        let kind = kindOf(failure.index)
        let folder = "\(outFolder)/failures/\(failure.kind)-\(kind.rawValue)-seed\(seed)-case\(failure.index)"
        guard let fuzzCase = try? FuzzCase.make(kind: kind, seed: seed, index: failure.index, folder: folder) else { return }
        let text = "\(failure.kind): \(failure.detail)\n\(fuzzCase.description)\nreplay: cd \(folder) && ptq run --keep-going case.ptq\n"
        try? text.write(toFile: folder + "/failure.txt", atomically: true, encoding: .utf8)
    }
}

/// Bytes from a pipe, split into complete lines as they arrive.
final class LineBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = Data()
    private var complete: [String] = []

    func append(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        pending.append(data)
        while let newline = pending.firstIndex(of: 0x0A) {
            complete.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...newline)
        }
    }

    func take() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let lines = complete
        complete = []
        return lines
    }
}
