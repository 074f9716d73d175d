/// What `load` does to a model before anything else sees it, so exported graphs run as their
/// authors meant and the techniques find the layers: Identity and inference Dropout dropped, every
/// subgraph of constants and input shapes folded (`ConstantFolding`), reshapes that fix the batch at
/// 1 released where that is safe (`FixedBatchRelease`), zero Pads folded into the
/// next Conv (`PadFolding`), then nodes and initializers nothing reads removed. The function, the
/// graph's inputs and outputs and the user's tensor names stay; `notes` says what changed.
public enum GraphPreparation {
    public static func prepare(_ graph: Graph) throws -> Graph {
        var notes = graph.preparation  // what import did (inlined functions)
        var result = PassThroughRemoval.apply(graph, notes: &notes)
        result = try ConstantFolding.fold(result, notes: &notes)
        result = try FixedBatchRelease.apply(result, notes: &notes)
        result = try PadFolding.apply(result, notes: &notes)
        let before = result.nodes.count
        result = DeadCodeRemoval.apply(result)
        if result.nodes.count < before { notes.append("removed \(before - result.nodes.count) nodes nothing reads") }
        result.preparation = notes
        return result
    }
}
