import Foundation

// ptq-fuzz: structure-aware fuzzing of ptq's inputs (models, arrays, scripts).
//
// The parent hands ranges of case indices to a worker process, which runs each case in-process
// (a failure there is a thrown error, turned into an `error:` line) and reports every start and
// end on stdout. A worker that dies on a trap marks the case it had started as a crash; one that
// stays on a case past the timeout is killed and the case is a hang. Either way the parent writes
// the case out again from (seed, index) under OUT/failures and starts a new worker after it.

let usage = """
    usage: ptq-fuzz [--seed N] [--cases N] [--kind all|model|array|script|image] [--out DIR] [--timeout SECONDS]
                    [--ledger FILE]
      Runs N cases (default 300) from seed N (default 1); kind `all` takes model, array, script and image cases
      in turn. Failing cases are kept in OUT/failures (default .fuzz/failures), each with case.ptq and
      the files it reads: `ptq run --keep-going case.ptq` there replays it. --ledger appends the
      campaign's counts to FILE. Exits 1 when any case crashed, hung or printed an unrendered error.
    """

var options: [String: String] = [:]
var arguments = Array(CommandLine.arguments.dropFirst())
var worker = false
while !arguments.isEmpty {
    let word = arguments.removeFirst()
    if word == "--worker" { worker = true; continue }
    if word == "--help" || word == "-h" { print(usage); exit(0) }
    guard word.hasPrefix("--"), !arguments.isEmpty else {
        FileHandle.standardError.write(Data("ptq-fuzz: unexpected '\(word)'\n\(usage)\n".utf8))
        exit(2)
    }
    options[String(word.dropFirst(2))] = arguments.removeFirst()
}

func integerOption(_ name: String, default value: Int) -> Int {
    guard let text = options[name] else { return value }
    guard let number = Int(text), number >= 0 else {
        FileHandle.standardError.write(Data("ptq-fuzz: --\(name) takes a non-negative integer, got '\(text)'\n".utf8))
        exit(2)
    }
    return number
}

let seed = UInt64(integerOption("seed", default: 1))
let cases = integerOption("cases", default: 300)
let kindName = options["kind"] ?? "all"
let kinds: [FuzzKind]
if kindName == "all" { kinds = FuzzKind.allCases } else if let kind = FuzzKind(rawValue: kindName) { kinds = [kind] } else {
    FileHandle.standardError.write(Data("ptq-fuzz: --kind takes all, model, array or script, got '\(kindName)'\n".utf8))
    exit(2)
}
let outFolder = options["out"] ?? ".fuzz"
let timeout = Double(integerOption("timeout", default: 10))

func kindOf(_ index: Int) -> FuzzKind { kinds[index % kinds.count] }

if worker {
    let from = integerOption("from", default: 0)
    let to = integerOption("to", default: cases)
    let folder = "\(outFolder)/work-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for index in from..<to {
        print("start \(index)")
        fflush(stdout)
        let outcome: String
        do {
            let fuzzCase = try FuzzCase.make(kind: kindOf(index), seed: seed, index: index, folder: folder)
            let (unrendered, succeeded) = fuzzCase.run(in: folder)
            let depth = "\(succeeded)/\(fuzzCase.lines.count)"
            outcome = unrendered.isEmpty ? "ok \(depth)" : "unrendered \(depth) " + unrendered[0].replacingOccurrences(of: "\n", with: " ")
        } catch {
            outcome = "ok 0/0"  // the case could not be generated (an unwritable folder): nothing ran
        }
        print("done \(index) \(outcome)")
        fflush(stdout)
    }
    exit(0)
}

let campaign = FuzzCampaign(seed: seed, cases: cases, kinds: kinds, kindOf: kindOf, outFolder: outFolder, timeout: timeout)
let result = campaign.run()
print(result.summary)
if let ledger = options["ledger"] {
    let line = result.ledgerLine + "\n"
    if let handle = FileHandle(forWritingAtPath: ledger) {
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        handle.closeFile()
    } else {
        try? ("seed\tkind\tcases\tcrashes\thangs\tunrendered\tseconds\n" + line).write(toFile: ledger, atomically: true, encoding: .utf8)
    }
}
exit(result.failures.isEmpty ? 0 : 1)
