import ArgumentParser
import EmbeddingDiagnostics

/// `--require KEY OP VALUE` (repeatable), parsed once when the command line is read: a malformed
/// requirement is a usage error before any work starts.
struct GateOptions: ParsableArguments {
    @Option(name: .customLong("require"), parsing: .singleValue,
            help: ArgumentHelp("Exit 1 unless a metric meets a threshold, e.g. \"p_value>=0.01\" (repeatable; any key of the JSON report).",
                               valueName: "key op value"),
            transform: Requirement.init(parsing:))
    var requirements: [Requirement] = []
}

/// `--seed N`: every random choice of a command (samples, splits, permutations, anchors) draws from
/// it, and the report records it.
struct SeedOptions: ParsableArguments {
    @Option(help: "Seed of every random choice (samples, splits, permutations, anchors); recorded in the report.")
    var seed: UInt64 = 42
}

/// A comma-separated list of positive integers (`--k 1,10,100`), parsed by `@Option(transform:)`.
struct PositiveIntegerList: CustomStringConvertible {
    var values: [Int]

    init(_ values: [Int]) { self.values = values }

    init(parsing text: String) throws {
        values = try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
            let s = part.trimmingCharacters(in: .whitespaces)
            guard let v = Int(s), v >= 1 else { throw ValidationError("'\(s)' is not a positive integer (give integers ≥ 1, comma-separated)") }
            return v
        }
        guard !values.isEmpty else { throw ValidationError("give at least one positive integer") }
        if let twice = values.first(where: { v in values.filter { $0 == v }.count > 1 }) { throw ValidationError("'\(text)' lists \(twice) twice") }
    }

    var description: String { values.map(String.init).joined(separator: ",") }
}
