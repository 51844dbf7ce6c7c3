import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct FingerprintCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Which model made these vectors? Record a model's fingerprint from a sample, or check a file against one (same model, or rows of another model mixed in).",
        discussion: """
        --write records what identifies a model's space in the fixed coordinate basis (mean direction, \
        principal directions and spectrum, per-dimension scale, norms, anisotropy) from at least \
        \(ModelFingerprint.minimumRows) distinct rows. --check says whether a file (at least \
        \(FingerprintCheck.minimumRows) distinct rows) comes from the same model: same_model (yes/no) and \
        same_model_score (≥ \(FingerprintCheck.sameModelThreshold) = same), robust to a change of topic, \
        sensitive to another model of the same dimension and to a rotated copy; yes also needs \
        orientation_score (the off-diagonal part) to confirm the coordinates' signs, and where the \
        fingerprint's structure is per-coordinate (a PCA-rotated store) same_model is null ("Cannot \
        tell"): a sign-flipped copy would score the same. --mixed also lists the rows that look like \
        another model's (mixed_share). See Guides/Fingerprint.md.
        Examples:
          embdiag fingerprint index-sample.npy --write model.fp --name all-MiniLM-L6-v2
          embdiag fingerprint --check model.fp new-batch.npy --require "same_model==yes"
          embdiag fingerprint --check model.fp index.npy --mixed --output reports/mix
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions

    @Argument(help: "Embedding file: the sample to fingerprint (--write) or to check (--check).")
    var file: String

    @Option(help: "Write the fingerprint of FILE here (a self-verifying .fp file).")
    var write: String?

    @Option(help: "Check FILE against this fingerprint file (.fp).")
    var check: String?

    @Flag(help: "With --check: list the rows that look like another model's (mixed_share, mixed_rows).")
    var mixed = false

    @Option(help: "The model's name, recorded in a new fingerprint and shown by --check.")
    var name: String?

    @Option(help: "Principal directions recorded in a new fingerprint (1 … dimension; default \(ModelFingerprint.defaultDirections), or the dimension when it is smaller).")
    var directions: Int?

    var requirements: [Requirement] { gates.requirements }

    func validate() throws {
        guard (write == nil) != (check == nil) else {
            throw ValidationError("give either --write MODEL.fp (record a fingerprint) or --check MODEL.fp (check FILE against one)")
        }
        if mixed && check == nil { throw ValidationError("--mixed needs --check MODEL.fp") }
        if check != nil && (name != nil || directions != nil) {
            throw ValidationError("--name and --directions describe a fingerprint being written; they need --write")
        }
        if let directions { try SettingRange.integer(directions, "--directions", atLeast: 1) }
        if let name, name.isEmpty || name.contains(where: { $0.isNewline }) { throw ValidationError("--name must be one non-empty line") }
    }

    func makeReports() throws -> [CommandReport] {
        if let check {
            let fingerprint = try FingerprintFile.read(check)
            let (e, dropped) = try input.readValidated(file, withLabels: false, quiet: outputOptions.quiet)
            let report = try FingerprintCheck(fingerprint, against: e, mixed: mixed, fingerprintPath: check).report()
            return [CommandReport(report: report, droppedTables: dropped.isEmpty ? [] : [dropped.reportTable(input: file)])]
        }
        let (e, dropped) = try input.readValidated(file, withLabels: false, quiet: outputOptions.quiet)
        let fingerprint = try ModelFingerprint(e, directions: directions, modelName: name)
        var output = CommandReport(report: fingerprint.report())
        if let write {
            let bytes = try FingerprintFile.encode(fingerprint)
            try AtomicFile.write(bytes, to: write)
            output.written.append("Fingerprint written to \(write) (\(bytes.count) bytes). Check a file against it with: embdiag fingerprint --check \(write) FILE")
        }
        if !dropped.isEmpty { output.droppedTables.append(dropped.reportTable(input: file)) }
        return [output]
    }
}
