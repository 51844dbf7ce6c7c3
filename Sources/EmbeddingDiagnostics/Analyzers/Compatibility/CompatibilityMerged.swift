import Foundation

extension CompatibilityAnalysis {
    /// The analysis of a merged `compat --partial` run (retrieval only). Provisional until
    /// `--retrieval-only` (issue 21) lands on main.
    public init(merged: CompatPartial.Merged) throws {
        throw EmbdiagError.usage("compat merge: the retrieval-only analysis is not assembled yet")
    }
}
