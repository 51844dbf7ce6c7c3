import ArgumentParser
import EmbeddingDiagnostics
import Foundation

// The `--partial` paths of the subcommands: read the shard, hand it to the analyzer's
// `PartialAnalysis` (one dispatch: `PartialOptions.run`), write the state through the IO layer.
// Kept out of the *Command.swift files.

extension InfoCommand {
    func validatePartial() throws {
        guard partialOptions.isActive else { return }
        try partialOptions.refuse(requirements: gates.requirements, analysis: InfoPartialAnalysis.self)
    }

    func runPartial() throws {
        let file = files[0]
        let e = try input.read(file, quiet: outputOptions.quiet)
        try partialOptions.run(InfoPartialAnalysis(), e, shardOf: e, path: file, quiet: outputOptions.quiet)
    }
}

extension AnisotropyCommand {
    func validatePartial() throws {
        guard partialOptions.isActive else { return }
        if !transform.isEmpty || applyTransform != nil || write != nil || saveTransform != nil {
            throw ValidationError("--partial computes the metrics of the input only: --transform, --apply-transform, --write and --save-transform need the whole matrix on one machine")
        }
        try partialOptions.refuse(requirements: gates.requirements, analysis: AnisotropyPartialAnalysis.self)
        if input.onInvalid == .drop {
            throw ValidationError("--partial needs --on-invalid error: dropping rows would shift the global row numbers of the seeded samples (clean the shards first)")
        }
    }

    func runPartial(_ configuration: AnisotropyConfiguration) throws {
        let (e, _) = try input.readValidated(file, quiet: outputOptions.quiet)
        // A shard's pass sizes memory like a whole run on its rows: the same budget applies.
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(rows: e.count, dimension: e.dimension))
        try partialOptions.run(AnisotropyPartialAnalysis(configuration: configuration), e, shardOf: e, path: file, quiet: outputOptions.quiet)
    }
}

extension NeighborsCommand {
    func validatePartial() throws {
        guard partialOptions.isActive else { return }
        if queries == nil {
            throw ValidationError("--partial needs --queries: every row against all others would need all rows as queries on every shard (run that on one machine)")
        }
        try partialOptions.refuse(requirements: gates.requirements, analysis: NeighborsPartialAnalysis.self)
        if input.onInvalid == .drop {
            throw ValidationError("--partial needs --on-invalid error for the gallery: dropped rows would shift the global row ids (clean the shards first)")
        }
    }

    func runPartial() throws {
        let (c, _) = try input.readValidated(corpus, quiet: outputOptions.quiet)
        let read = try EmbeddingReader.read(queries!, options: input.readOptions(labels: queryLabels))
        let (q, _) = try read.requiringFiniteNonZeroRows(policy: .error)
        try MemoryBudget.installed.value.check(CosineNeighbors.memoryEstimates(queries: q.count, corpusRows: c.count, k: k))
        try partialOptions.run(NeighborsPartialAnalysis(queries: q, k: k), c, shardOf: c, path: corpus, quiet: outputOptions.quiet)
    }
}

extension DepthCommand {
    func validatePartial() throws {
        if referenceRows != nil && (!partialOptions.isActive || referenceSample == nil) {
            throw ValidationError("--reference-rows goes with --partial and --reference-sample (the reference's total row count over all shards)")
        }
        guard partialOptions.isActive else { return }
        if referenceSample != nil && referenceRows == nil {
            throw ValidationError("--partial with --reference-sample needs --reference-rows N: the reference's total row count over all shards (every shard draws the single run's seeded sample from it)")
        }
        if files.count != 1 { throw ValidationError("--partial reads one shard (of the reference, or with --other-corpus of the compared corpus); got \(files.count) files") }
        if selectCentral != nil { throw ValidationError("--select-central goes with a whole run or embdiag merge, not --partial") }
        try partialOptions.refuse(requirements: gates.requirements, analysis: DepthPartialAnalysis.self)
        if input.onInvalid == .drop { throw ValidationError("--partial needs --on-invalid error: dropped rows would shift the global row numbers (clean the shards first)") }
    }

    /// - Parameter shard: the one file, as `makeReports` read it (with --on-invalid error).
    func runPartial(_ shard: Embeddings, configuration: DepthConfiguration) throws {
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(referenceRows: referenceRows ?? shard.count, dimension: shard.dimension))
        let analysis = DepthPartialAnalysis(configuration: configuration, referenceRows: referenceRows, otherCorpus: partialOptions.otherCorpus)
        try partialOptions.run(analysis, shard, shardOf: shard, path: files[0], quiet: outputOptions.quiet)
    }
}

extension CompatCommand {
    func validatePartial() throws {
        guard partialOptions.isActive else { return }
        if oldQueries == nil || newQueries == nil {
            throw ValidationError("compat --partial needs --old-queries and --new-queries: every shard ranks the same query files against its part of the gallery")
        }
        if fit != .none || saveMapping != nil || trainRows != nil {
            throw ValidationError("compat --partial computes retrieval only: --fit, --save-mapping and --train-rows need every paired row on one machine")
        }
        if !threshold.isEmpty { throw ValidationError("compat --partial computes retrieval only: --threshold needs the pair similarities of the whole gallery") }
        if (try? Compression.parse(new)) != nil {
            throw ValidationError("compat --partial does not shard --new \(new): give the NEW gallery shard as a file")
        }
        if pairBy != .row { throw ValidationError("compat --partial pairs OLD and NEW shard rows by row: --pair-by label needs every id on one machine (align the shards first)") }
        if input.onInvalid == .drop { throw ValidationError("compat --partial needs --on-invalid error: dropped rows would shift the global row numbers (clean the shards first)") }
        try partialOptions.refuse(requirements: gates.requirements, analysis: CompatPartialAnalysis.self)
        if partialOptions.otherCorpus { throw ValidationError("--other-corpus is for depth --partial") }
    }

    /// One gallery shard (OLD and NEW rows of the same items), the full query files.
    func runPartial(_ configuration: CompatibilityConfiguration) throws {
        let (oldE, _) = try input.readValidated(old, withLabels: false, quiet: outputOptions.quiet)
        let (newE, _) = try input.readValidated(new, withLabels: false, quiet: true)
        let oq = try input.readValidated(oldQueries!, withLabels: false, quiet: true).embeddings
        let nq = try input.readValidated(newQueries!, withLabels: false, quiet: true).embeddings
        let labels = try input.labels.map { try LabelsFile.read($0, expectedCount: oldE.count, matrixPath: old) }
        let ql = try queryLabels.map { try LabelsFile.read($0, expectedCount: oq.count, matrixPath: oldQueries!) }
        let inputs = CompatibilityInputs(old: oldE, new: newE, oldQueries: oq, newQueries: nq, labels: labels, queryLabels: labels == nil ? nil : ql)
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(galleryRows: oldE.count))
        try partialOptions.run(CompatPartialAnalysis(configuration: configuration), inputs, shardOf: oldE, path: old, quiet: outputOptions.quiet)
    }
}
