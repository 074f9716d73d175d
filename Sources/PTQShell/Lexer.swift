/// Splits one command line into words. Quotes ("..." or '...') group words; inside double quotes
/// \" \\ \n \t escape; `#` outside quotes starts a comment. `--key=value` is split into two words.
public enum Lexer {
    public static func words(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var characters = Array(line)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" && index + 1 < characters.count {
                    index += 1
                    switch characters[index] {
                    case "n": current.append("\n")
                    case "t": current.append("\t")
                    default: current.append(characters[index])
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == "#" && !inWord {
                break
            } else if character == " " || character == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
            index += 1
        }
        if quote != nil { throw ShellError.syntax("unterminated quote in: \(line)") }
        if inWord { words.append(current) }
        characters.removeAll()
        return words.flatMap { word -> [String] in
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                return [String(word[..<equals]), String(word[word.index(after: equals)...])]
            }
            return [word]
        }
    }

    /// Splits `-c` text into commands at `;` and newlines outside quotes.
    public static func splitCommands(_ text: String) -> [String] {
        var commands: [String] = []
        var current = ""
        var quote: Character? = nil
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
                current.append(character)
            } else if character == "\"" || character == "'" {
                quote = character
                current.append(character)
            } else if character == ";" || character == "\n" {
                commands.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        commands.append(current)
        return commands.map { $0.trimmed() }.filter { !$0.isEmpty }
    }
}

extension String {
    func trimmed() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
