import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct AnisotropyCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "anisotropy",
        abstract: "Is the space a narrow cone? Mean cosine, IsoScore, partition isotropy, spectrum, effective rank, rogue dimensions — and the remedies.",
        discussion: """
        Remedies (--transform, applied in order, metrics shown before and after): center, abtt[:D] \
        (all-but-the-top: centre and remove the top D principal components; default d/100), whiten[:K] \
        (PCA whitening to K components; ZCA without K), normalize (unit rows). See Guides/Anisotropy.md.
        Examples:
          embdiag anisotropy data/words/googlenews-bolukbasi-subset.bin
          embdiag anisotropy corpus.npy --transform abtt:3 --transform normalize \\
              --write corpus-abtt.npy --save-transform abtt.json
          embdiag anisotropy queries.npy --apply-transform abtt.json \\
              --write queries-abtt.npy
          embdiag anisotropy vectors.npy --require "mean_cosine<=0.2"
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var seedOptions: SeedOptions
    @OptionGroup var partialOptions: PartialOptions
    @OptionGroup var memory: MemoryBudgetOptions

    @Argument(help: "Embedding file.")
    var file: String

    @Option(name: .long, parsing: .singleValue, help: "A remedy: center, abtt[:D], whiten[:K], normalize (repeat or comma-separate; applied in order).")
    var transform: [String] = []

    @Option(help: "Apply a transform saved with --save-transform (instead of fitting one).")
    var applyTransform: String?

    @Option(help: "Save the fitted transform (JSON + one .npy per matrix) to re-apply it to other data.")
    var saveTransform: String?

    @Option(help: "Write the transformed matrix here (.npy, .bin or .txt; labels kept: a .npy's in OUT.labels.txt).")
    var write: String?

    @Option(help: "Rogue dimensions listed and K of the explained-variance metric.")
    var top: Int = 10

    @Option(help: "Pairs sampled for the cosine's spread (0 = skip).")
    var pairs: Int = 100_000

    @Option(help: "Also report IsoScore* (IsoScore 2.x shrinkage version, defined for n < d) with this ζ in [0, 1].", transform: DecimalNumber.option)
    var isoscoreZeta: Double?

    @Option(help: "Shrinkage target C0 of IsoScore*: identity (the package's recommendation) or trace (tr(C)/d·I, scale-invariant).")
    var isoscorePrior: String = "identity"



    func validate() throws {
        if applyTransform != nil && !transform.isEmpty { throw ValidationError("use either --transform or --apply-transform") }
        if saveTransform != nil && transform.isEmpty { throw ValidationError("--save-transform needs --transform") }
        if write != nil && transform.isEmpty && applyTransform == nil { throw ValidationError("--write needs --transform or --apply-transform") }
        try SettingRange.integer(top, "--top", atLeast: 1)
        try SettingRange.integer(pairs, "--pairs", atLeast: 0, meaning: "0 skips the cosine spread")
        if let isoscoreZeta { try IsoScoreStar.validate(zeta: isoscoreZeta) }
        if IsoScoreStar.Prior(rawValue: isoscorePrior.lowercased()) == nil { throw ValidationError("--isoscore-prior '\(isoscorePrior)': use identity or trace") }
        // Parsed here too, so a bad transform is refused before any file is read.
        _ = try transform.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { try IsotropyStep(parsing: String($0)) }
        try validatePartial()
    }

    var requirements: [Requirement] { gates.requirements }
    var writesState: Bool { partialOptions.isActive }
    var seed: UInt64 { seedOptions.seed }

    func makeReports() throws -> [CommandReport] {
        var configuration = AnisotropyConfiguration()
        configuration.steps = try transform.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { try IsotropyStep(parsing: String($0)) }
        configuration.savedTransform = try applyTransform.map(IsotropyTransform.load)
        configuration.top = top
        configuration.pairSample = pairs
        configuration.seed = seed
        if let isoscoreZeta { try IsoScoreStar.validate(zeta: isoscoreZeta) }
        configuration.isoScoreStarZeta = isoscoreZeta
        guard let prior = IsoScoreStar.Prior(rawValue: isoscorePrior.lowercased()) else {
            throw EmbdiagError.usage("--isoscore-prior '\(isoscorePrior)': use identity or trace")
        }
        configuration.isoScoreStarPrior = prior
        if partialOptions.isActive { try runPartial(configuration); return [] }  // a state file, no report
        let (e, dropped) = try input.readValidated(file, quiet: outputOptions.quiet)
        let analysis = try AnisotropyAnalysis(e, configuration: configuration)
        var output = CommandReport(report: analysis.report())
        if let write, let out = analysis.transformedEmbeddings(e) {
            let files = try LabelledMatrix.write(out, to: write)
            output.written.append("Wrote the transformed matrix (\(out.count) × \(out.dimension)) to \(write)\(files.count > 1 ? " (its labels to \(files[1]))" : "").")
        }
        if let saveTransform, let t = analysis.transform {
            try t.save(to: saveTransform, fittedOn: e.source, seed: seed)
            output.written.append("Saved the fitted transform to \(saveTransform); apply it to other data with --apply-transform.")
        }
        if !dropped.isEmpty { output.droppedTables.append(dropped.reportTable(input: file)) }
        return [output]
    }
}
