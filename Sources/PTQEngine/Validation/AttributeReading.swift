/// Typed attribute reads that fail on a wrong type instead of falling back to the default: a
/// `group` stored as a float, or `strides` stored as one int, is a broken model, not "absent".
enum AttributeReading {
    static func fail(_ node: Node, _ key: String, _ problem: String) -> PTQError {
        PTQError.invalidModel("node '\(node.name)' (\(node.opType)): attribute '\(key)' \(problem)")
    }

    static func kindName(_ attribute: Attribute) -> String {
        switch attribute {
        case .int: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .ints: return "a list of ints"
        case .floats: return "a list of floats"
        case .strings: return "a list of strings"
        case .tensor: return "a tensor"
        case .opaque: return "a graph or other non-numeric value"
        }
    }

    static func ints(_ node: Node, _ key: String) throws -> [Int]? {
        guard let attribute = node.attributes[key] else { return nil }
        guard case .ints(let values) = attribute else {
            throw fail(node, key, "is \(kindName(attribute)); expected a list of ints")
        }
        return values
    }

    static func int(_ node: Node, _ key: String) throws -> Int? {
        guard let attribute = node.attributes[key] else { return nil }
        guard case .int(let value) = attribute else { throw fail(node, key, "is \(kindName(attribute)); expected an int") }
        return value
    }

    static func float(_ node: Node, _ key: String) throws -> Float? {
        guard let attribute = node.attributes[key] else { return nil }
        guard case .float(let value) = attribute else { throw fail(node, key, "is \(kindName(attribute)); expected a float") }
        return value
    }

    static func string(_ node: Node, _ key: String) throws -> String? {
        guard let attribute = node.attributes[key] else { return nil }
        guard case .string(let value) = attribute else { throw fail(node, key, "is \(kindName(attribute)); expected a string") }
        return value
    }
}
