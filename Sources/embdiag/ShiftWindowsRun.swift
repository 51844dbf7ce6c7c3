import ArgumentParser
import EmbeddingDiagnostics
import Foundation

/// `shift` over windows (--by, --by-file, --chunk, a directory of window files) and with a saved
/// reference (--save-reference, --reference): reads, cuts, calls `ShiftWindows`.
extension ShiftCommand {
    /// The corpora after the reference (all arguments with --reference).
    var otherFiles: [String] { reference != nil ? files : Array(files.dropFirst()) }

    /// Whether this run goes through the windows flow.
    var isWindowsRun: Bool {
        reference != nil || saveReference != nil || by != nil || byFile != nil || chunk != nil
            || otherFiles.contains { path in
                // A directory with neither .npy nor .parquet files goes here too, so that its message names both.
                do { return try WindowFiles.list(path) != nil } catch { return true }
            }
    }

    func validateWindows() throws {
        let cuts = [by != nil, byFile != nil, chunk != nil].filter { $0 }.count
        guard cuts <= 1 else { throw ValidationError("give one of --by, --by-file and --chunk") }
        if window != nil && by == nil && byFile == nil { throw ValidationError("--window groups the dates of --by or --by-file; give one of them") }
        if let window { do { _ = try WindowWidth(parsing: window) } catch let e as EmbdiagError { throw ValidationError(e.message) } }
        if let chunk { try SettingRange.integer(chunk, "--chunk", atLeast: 1) }
        if let bandChunks {
            try SettingRange.integer(bandChunks, "--band-chunks", atLeast: 1)
            guard bandChunks <= 100_000 else { throw ValidationError("--band-chunks must be at most 100000 (got \(bandChunks))") }
        }
        if reference != nil {
            guard !files.isEmpty else { throw ValidationError("--reference STATE needs the corpora or windows to test") }
            guard saveReference == nil else { throw ValidationError("--reference reads a saved reference; --save-reference writes one from a reference corpus: give one of them") }
            guard input.labels == nil else { throw ValidationError("--labels names the reference's rows; a saved reference keeps its own labels") }
            guard bandwidth == nil else { throw ValidationError("--bandwidth: a saved reference fixes σ (save it again with --bandwidth to change it)") }
            guard clusters == nil else { throw ValidationError("--clusters: a saved reference keeps its clusters (save it again with --clusters to change them)") }
        } else if saveReference != nil {
            guard !files.isEmpty else { throw ValidationError("--save-reference needs the reference corpus") }
        }
        // `--save-reference REF --chunk N` alone: N is the window size whose band is saved.
        let bandSizeOnly = saveReference != nil && otherFiles.isEmpty && by == nil && byFile == nil
        if cuts == 1 && !bandSizeOnly {
            guard otherFiles.count == 1 else {
                throw ValidationError("--by, --by-file and --chunk cut one other corpus into windows (got \(otherFiles.count) other corpora)")
            }
        }
    }

    func makeWindowsReports(_ base: ShiftConfiguration) throws -> [CommandReport] {
        var c = base
        let quiet = outputOptions.quiet
        var droppedTables: [(path: String, rows: [DroppedRow])] = []
        var ref: ShiftReference
        if let path = reference {
            ref = try ShiftReferenceState.read(path)
            // The saved sample's regions, new-row rate and bands were made with its k and R: a run
            // with other values would compare numbers of two definitions.
            if let saved = ref.regions?.neighbors {
                if let k = neighbors, k != saved {
                    throw EmbdiagError.usage("--k \(k): the saved reference \(path) keeps its k-NN balls (k = \(saved)); omit --k, or save the reference again with --k \(k)")
                }
                c.neighbors = saved
            }
            if let r = bandChunks, r != ref.bandChunks {
                throw EmbdiagError.usage("--band-chunks \(r): the saved reference \(path) draws its bands with \(ref.bandChunks) chunks; omit --band-chunks, or save the reference again with --band-chunks \(r)")
            }
        } else {
            let (e, dropped) = try input.readValidated(files[0], quiet: quiet)
            droppedTables.append((files[0], dropped))
            let sample = maxRows ?? (saveReference != nil ? ShiftReference.defaultSavedSample : nil)
            ref = try ShiftReference(reference: e, configuration: c, bandChunks: bandChunks ?? ShiftReference.defaultBandChunks, sampleSize: sample)
        }
        c.maxRows = maxRows
        var windows: [ShiftWindowInput] = []
        var otherSource: Source?
        let others = otherFiles
        if !others.isEmpty && (by != nil || byFile != nil || chunk != nil) {
            let path = others[0]
            var options = input.readOptions(labels: otherLabels.first, showProgress: !quiet && Terminal.stderrIsTerminal)
            var format: EmbeddingFormat?
            if let by {
                let f = try WindowKeyColumn.tabularFormat(path, options: options)
                options = try WindowKeyColumn.readOptions(options, for: f, column: by)
                format = f
            }
            let raw = try EmbeddingReader.read(path, options: options)
            let (valid, dropped) = try raw.requiringFiniteNonZeroRows(policy: input.onInvalid)
            droppedTables.append((path, dropped))
            otherSource = raw.source
            let groups: [WindowGroup]
            if let chunk {
                groups = try WindowGroups.chunks(count: valid.count, size: chunk)
            } else {
                let keys: [String]
                let origin: String
                if let by, let format {
                    keys = try WindowKeyColumn.read(path, column: by, format: format, options: options, embeddings: raw)
                    origin = "\(path) (\(by))"
                } else {
                    keys = try LabelsFile.read(byFile!, expectedCount: raw.count, matrixPath: path)
                    origin = byFile!
                }
                let validKeys = (0..<valid.count).map { keys[valid.sourceRow($0)] }
                groups = try WindowGroups.byKeys(validKeys, width: try window.map { try WindowWidth(parsing: $0) }, origin: origin, rowNumber: valid.sourceRow)
            }
            windows = ShiftWindowInput.cut(valid, into: groups)
        } else {
            for (i, path) in others.enumerated() {
                if let files = try WindowFiles.list(path) {
                    guard i >= otherLabels.count else { throw EmbdiagError.usage("--other-labels: \(path) is a directory of windows; label its windows with a NAME.txt beside each NAME.npy") }
                    for file in files {
                        let e = try EmbeddingReader.read(file, options: input.readOptions(labels: WindowFiles.labelsFile(of: file)))
                        let (valid, dropped) = try e.requiringFiniteNonZeroRows(policy: input.onInvalid)
                        droppedTables.append((file, dropped))
                        windows.append(ShiftWindowInput(name: WindowFiles.name(of: file), rows: valid))
                    }
                } else {
                    let e = try EmbeddingReader.read(path, options: input.readOptions(labels: i < otherLabels.count ? otherLabels[i] : nil,
                                                                                      showProgress: !quiet && Terminal.stderrIsTerminal))
                    let (valid, dropped) = try e.requiringFiniteNonZeroRows(policy: input.onInvalid)
                    droppedTables.append((path, dropped))
                    windows.append(ShiftWindowInput(name: ShiftAnalysisNames.fileName(path), rows: valid))
                }
            }
        }
        // Whether the reference as built holds a band for --chunk (asked before the windows run).
        let bandMissing = chunk.map { ref.band(chunkSize: $0) == nil } ?? false
        let report: Report
        if windows.isEmpty {
            // --save-reference alone: the state is the product; the report says what it holds.
            report = ref.report()
        } else {
            let analysis = try ShiftWindows(reference: ref, windows: windows, other: otherSource, configuration: c, referenceFromState: reference)
            ref = analysis.reference
            report = analysis.report()
        }
        var output = CommandReport(report: report, droppedByInput: droppedTables)
        if let saveReference {
            try ShiftReferenceState.write(ref, to: saveReference)
            output.written.append("Reference saved to \(saveReference) (\(ref.sample.count) rows, σ, \(ref.bands.count) band\(ref.bands.count == 1 ? "" : "s")); test new batches with: embdiag shift --reference \(saveReference) BATCH")
            if let chunk, bandMissing {
                output.written.append("No band for \(chunk)-row windows: the reference sample of \(ref.sample.count) rows cannot hold a chunk of \(chunk) rows and a rest of \(ref.minimumRows) (keep a larger sample with --max-rows).")
            }
        }
        return [output]
    }
}

/// File names as reports show them.
enum ShiftAnalysisNames {
    static func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }
}
