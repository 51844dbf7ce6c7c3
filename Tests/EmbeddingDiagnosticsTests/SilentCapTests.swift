import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Caps that were silent (hostile pass 3, F8): `anisotropy --top 5000` with d = 8 reported
/// explained_variance_top5000 = 1 with no note, `--pairs 10¹¹` silently became every pair,
/// `--transform abtt:` (no number) silently meant abtt's default while abtt:0 is refused, and
/// `depth --top 5000` silently listed every row. Each cap is now a warning of the report (the
/// library's, not printed by the CLI), and the empty number an error.
extension OptionHostileTests {
    static func reportJSON(_ arguments: [String]) throws -> [String: Any] {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(arguments + ["--json", dir + "/r.json", "-q"])
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any])
    }

    static func warnings(_ json: [String: Any]) -> [String] { ((json["notes"] as? [String]) ?? []).filter { $0.hasPrefix("Warning: ") } }

    @Test func capsAreWarnings() throws {
        let (a, b) = try Self.inputs()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: a).deletingLastPathComponent().path) }
        let top = try Self.reportJSON(["anisotropy", a, "--top", "5000"])
        #expect(Self.warnings(top) == ["Warning: --top 5000 capped to 8: there are 8 dimensions: explained_variance_top5000 is the variance of all of them, and the rogue-dimension tables list every dimension"], "\(Self.warnings(top))")
        #expect((top["metrics"] as? [String: Any])?["explained_variance_top5000"] as? Double == 1)
        let pairs = try Self.reportJSON(["anisotropy", a, "--pairs", "100000000000"])
        #expect(Self.warnings(pairs) == ["Warning: --pairs 100000000000 capped to 780: 40 rows have 780 distinct pairs, and every one is used"], "\(Self.warnings(pairs))")
        // The defaults are documented as "at most": not warned about.
        #expect(Self.warnings(try Self.reportJSON(["anisotropy", a])).isEmpty)
        #expect(Self.warnings(try Self.reportJSON(["anisotropy", a, "--top", "8", "--pairs", "780"])).isEmpty)
        let depth = try Self.reportJSON(["depth", a, b, "--top", "5000"])
        #expect(Self.warnings(depth) == ["Warning: --top 5000 capped to 40: \(a) has 40 rows: its central and outlying tables list every row"], "\(Self.warnings(depth))")
        #expect(Self.warnings(try Self.reportJSON(["depth", a, b, "--top", "40"])).isEmpty)
    }

    /// `abtt:` and `whiten:` without a number are an error with the range, like abtt:0 and abtt:2.5.
    @Test func aTransformWithAnEmptyNumberIsRefused() throws {
        for text in ["abtt:", "whiten:", "abtt:0", "abtt:2.5"] {
            #expect(throws: EmbdiagError.self) { try IsotropyStep(parsing: text) }
            do { _ = try IsotropyStep(parsing: text) } catch let e as EmbdiagError {
                #expect(e.message.contains("transform '\(text)': the number after ':' must be a whole number ≥ 1"), "\(e.message)")
            }
        }
        #expect(throws: EmbdiagError.usage("transform 'center:' takes no number")) { try IsotropyStep(parsing: "center:") }
        #expect(try IsotropyStep(parsing: "abtt") == .allButTheTop(components: nil))
        let (a, _) = try Self.inputs()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: a).deletingLastPathComponent().path) }
        let r = try CLI.run(["anisotropy", a, "--transform", "abtt:"])
        #expect(r.status == 2 && r.stderr.contains("transform 'abtt:': the number after ':' must be a whole number ≥ 1") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
