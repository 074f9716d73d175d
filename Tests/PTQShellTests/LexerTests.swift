import Foundation
import Testing
@testable import PTQShell

@Suite struct LexerTests {
    @Test func wordsQuotesCommentsAndOptions() throws {
        #expect(try Lexer.words("load model.onnx # comment") == ["load", "model.onnx"])
        #expect(try Lexer.words("data \"my file.npy\" --limit=5") == ["data", "my file.npy", "--limit", "5"])
        #expect(try Lexer.words("set key 'a # b'") == ["set", "key", "a # b"])
        #expect(try Lexer.words("x \"a\\\"b\\n\"") == ["x", "a\"b\n"])
        #expect(throws: ShellError.self) { try Lexer.words("load \"open") }
    }

    @Test func commandSplitting() {
        #expect(Lexer.splitCommands("load a.onnx; info\nlayers") == ["load a.onnx", "info", "layers"])
        #expect(Lexer.splitCommands("set x 'a;b'; info") == ["set x 'a;b'", "info"])
    }

    @Test func nearestNames() {
        #expect(nearest("lod", in: Commands.names) == "load")
        #expect(nearest("zzzzzzzz", in: Commands.names) == nil)
    }
}

/// docs/commands.md is generated from the command table (`ptq --reference > docs/commands.md`).
@Suite struct ReferenceTests {
    @Test func committedReferenceIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/commands.md").path
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == Commands.markdownReference, "regenerate with: .build/release/ptq --reference > docs/commands.md")
    }
}
