/// Removes nodes whose outputs nothing reads (no node, no graph output) and initializers nothing
/// reads, repeatedly, so a folded subgraph disappears whole. Graph inputs stay, read or not.
enum DeadCodeRemoval {
    static func apply(_ graph: Graph) -> Graph {
        var result = graph
        var changed = true
        while changed {
            changed = false
            var read = Set(result.outputs.map(\.name))
            for node in result.nodes { node.inputs.forEach { read.insert($0) } }
            let kept = result.nodes.filter { node in node.outputs.contains { read.contains($0) } }
            if kept.count != result.nodes.count { result.nodes = kept; changed = true }
        }
        var read = Set(result.outputs.map(\.name))
        for node in result.nodes { node.inputs.forEach { read.insert($0) } }
        for name in result.initializerOrder where !read.contains(name) {
            if !result.inputs.contains(where: { $0.name == name }) { result.removeInitializer(name) }
        }
        return result
    }
}
