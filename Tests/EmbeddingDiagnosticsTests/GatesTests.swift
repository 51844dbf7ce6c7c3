import Testing
@testable import EmbeddingDiagnostics

@Suite struct GatesTests {
    let report = Report(analyzer: "compat", title: "t", metrics: [
        ReportMetric("recall_at_10_cross", "r", 0.85), ReportMetric("compatible", "c", false),
        ReportMetric("p_value", "p", .double(.nan)), ReportMetric("n", "n", 10),
    ])

    @Test func parsesEveryOperatorAndSpacing() throws {
        #expect(try Requirement(parsing: "recall_at_10_cross>=0.9") == Requirement(metric: "recall_at_10_cross", .greaterOrEqual, 0.9))
        #expect(try Requirement(parsing: " p_value <= 1e-3 ") == Requirement(metric: "p_value", .lessOrEqual, 0.001))
        #expect(try Requirement(parsing: "n>5").comparison == .greater)
        #expect(try Requirement(parsing: "n<5").comparison == .less)
        #expect(try Requirement(parsing: "compatible == true") == Requirement(metric: "compatible", .equal, 1, boolean: true))
        #expect(try Requirement(parsing: "n != 3").comparison == .notEqual)
        for bad in ["recall", "recall>=", ">=0.9", "recall>=abc", "re call>=1", "x>=nan"] {
            #expect(throws: EmbdiagError.self, "\(bad)") { try Requirement(parsing: bad) }
        }
    }

    @Test func evaluatesWithMessagesAndRecordsATable() throws {
        var r = report
        let outcomes = try r.evaluate([try Requirement(parsing: "recall_at_10_cross>=0.9"), try Requirement(parsing: "n==10"),
                                       try Requirement(parsing: "p_value<0.05"), try Requirement(parsing: "compatible==true")])
        #expect(outcomes.map(\.passed) == [false, true, false, false])
        #expect(outcomes[0].message == "recall_at_10_cross = 0.85, required >= 0.9 (off by 0.05)")
        #expect(outcomes[2].actual == nil && outcomes[2].message.contains("not available"))
        r.record(outcomes)
        #expect(r.metric("gates_passed") == .bool(false))
        #expect(r.table("gates")?.rows.count == 4)
        // An unknown key is a usage error naming the available keys.
        #expect(throws: EmbdiagError.self) { try report.evaluate([Requirement(metric: "recall_at_1O_cross", .greater, 0)]) }
    }
}
