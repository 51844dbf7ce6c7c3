import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// A compat result carries the settings it was judged with (`configuration` is a `let`: changing
/// a configuration afterwards cannot flip `noWorse`), and every setting that changes a number is
/// in the report's parameters — the carried thresholds and their bootstrap count included.
@Suite struct CompatJudgedSettingsTests {
    static func inputs() -> CompatibilityInputs {
        let old = CompatibilityTests.gaussian(80, 6, seed: 31)
        let new = Matrix(rows: 80, cols: 6, values: old.values.enumerated().map { $0.element + Float($0.offset % 7) * 0.02 })
        return CompatibilityInputs(old: Embeddings(matrix: old, name: "old"), new: Embeddings(matrix: new, name: "new"))
    }

    @Test func thresholdsAndBootstrapAreParameters() throws {
        var c = CompatibilityConfiguration()
        c.thresholds = [0.5, 0.75]
        c.thresholdBootstrap = 25
        c.maxQueries = 40
        let report = try CompatibilityAnalysis(Self.inputs(), configuration: c).report()
        let parameters = Dictionary(report.parameters.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(parameters["thresholds"] == .string("0.5,0.75"))
        #expect(parameters["threshold_bootstrap"] == .int(25))
        #expect(parameters["no_worse_tolerance"] == .double(0))
        // Without thresholds there is nothing to bootstrap: neither parameter is listed.
        let plain = try CompatibilityAnalysis(Self.inputs(), configuration: CompatibilityConfiguration()).report()
        #expect(!plain.parameters.contains { $0.key == "thresholds" || $0.key == "threshold_bootstrap" })
    }

    @Test func noWorseIsJudgedWithTheResultsOwnTolerance() throws {
        var c = CompatibilityConfiguration()
        c.maxQueries = 40
        c.noWorseTolerance = 0.99
        let a = try CompatibilityAnalysis(Self.inputs(), configuration: c)
        c.noWorseTolerance = 0  // the caller's copy changes; the result's does not
        #expect(a.configuration.noWorseTolerance == 0.99)
        #expect(a.noWorse == true)
        // A tolerance of 1 or more makes no_worse hold whatever the recalls: refused.
        c.noWorseTolerance = 1
        #expect(throws: EmbdiagError.self) { try CompatibilityAnalysis(Self.inputs(), configuration: c) }
    }
}
