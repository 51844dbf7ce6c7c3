import Foundation
import Testing

/// Rules of the library's source that a compiler does not check.
@Suite struct SourceRulesTests {
    /// Types whose stored properties stay publicly settable: what a caller fills in before an
    /// analysis (configurations, requests, inputs, options), not what an analysis returns.
    static var settableTypes: Regex<(Substring, Substring)> { #/(Configuration|Request|Options|Settings|Setting|Limits|CrossScan|Reporter|Progress|^Embeddings|^Source|^ShiftWindowInput|^PostgresLocation|^IdColumn|^MemoryBudget|^MemoryEstimate|^Header|^WordList|^WordGroups|^CompatibilityInputs|^ReportDestinations|^Requirement)$/# }

    /// Results, states and tables are immutable to callers: a stored `public var` in any other type
    /// is `public internal(set) var` or `let`, so nobody can change a result after the analysis
    /// decided it (a verdict read from a changed configuration would flip).
    @Test func resultTypesHaveNoPubliclySettableStoredProperties() throws {
        let root = CLI.repositoryRoot.appendingPathComponent("Sources/EmbeddingDiagnostics")
        let declaration = #/^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public |internal |private |fileprivate |package )?(?:final )?(?:indirect )?(struct|class|enum|extension|actor|protocol)\s+([A-Za-z_][A-Za-z0-9_.]*)/#
        let storedVar = #/^\s*public var [A-Za-z_][A-Za-z0-9_]*\s*(:|=)[^{]*$/#
        let settableTypes = Self.settableTypes  // built once (Regex is not Sendable, so no static let)
        var offenders: [String] = []
        let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 100)
        for file in files {
            let text = try String(contentsOfFile: root.appendingPathComponent(file).path, encoding: .utf8)
            var stack: [(kind: Substring, name: Substring, depth: Int)] = []
            var depth = 0
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = String(line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                    .replacing(#/"(?:[^"\\]|\\.)*"/#, with: "\"\"")
                if let m = code.firstMatch(of: declaration), code.contains("{") { stack.append((m.1, m.2, depth)) }
                if let inner = stack.last, depth == inner.depth + 1, inner.kind != "protocol",
                   inner.name.split(separator: ".").last.map({ $0.firstMatch(of: settableTypes) == nil }) ?? true,
                   line.firstMatch(of: storedVar) != nil {
                    offenders.append("\(file):\(number + 1) \(inner.name): \(line.trimmingCharacters(in: .whitespaces))")
                }
                depth += code.filter { $0 == "{" }.count - code.filter { $0 == "}" }.count
                while let last = stack.last, depth <= last.depth { stack.removeLast() }
            }
        }
        #expect(offenders.isEmpty, "\(offenders.count) stored public vars:\n\(offenders.prefix(20).joined(separator: "\n"))")
    }
}
