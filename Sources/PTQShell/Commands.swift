/// The command table: every command of the ptq language, in the order `help` lists them.
public enum Commands {
    public static let table: [CommandSpec] =
        SessionCommands.all + InspectCommands.all + QuantizeCommands.all + TechniqueCommands.all + NotebookCommands.all

    public static var names: [String] { table.map(\.name) }

    /// `help`'s overview, generated from the table.
    public static var overview: String {
        let width = table.map(\.name.count).max() ?? 0
        var lines = ["ptq commands (help COMMAND for details):"]
        for spec in table { lines.append("  " + spec.name.padding(to: width) + "  " + spec.summary) }
        return lines.joined(separator: "\n")
    }

    /// The command reference in markdown, for the docs.
    public static var markdownReference: String {
        var text = "# ptq command reference\n\nGenerated from the command table (`ptq --reference`).\n"
        for spec in table {
            text += "\n## \(spec.name)\n\n```\n\(spec.helpText)\n```\n"
        }
        return text
    }
}
