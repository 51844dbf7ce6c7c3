import Foundation

/// Mapping file format version 2: a trained adapter.
///
/// OUT.npy holds every parameter as one P × 1 little-endian float64 column, the blocks one after
/// the other in the order of `parameters` in OUT.json; each entry gives `name`, `rows`, `cols` and
/// `offset` (row-major block at values[offset ..< offset + rows·cols]). OUT.json also records
/// `kind` "adapter", `format_version` 2, `fit` ("low-rank:R" / "mlp:H"), `architecture`
/// ("low_rank" with `rank` and `diagonal`, or "mlp" with `hidden` and `activation` "relu"),
/// `input_dim`, `output_dim`, `formula`, `parameters_sha256` (SHA-256 of OUT.npy) and
/// `layout_sha256` (SHA-256 of the layout text, `layoutText`), plus the fit's metadata, all of it
/// under `metadata_sha256` (`MappingFile.sealedMetadata`). The checksums are required: an adapter is never applied from a file that differs from the one the
/// fit wrote.
extension MappingFile {
    /// "architecture;input;output;name:rows×cols@offset;…" — what `layout_sha256` covers.
    static func layoutText(_ a: AdapterMap.Architecture, input: Int, output: Int) -> String {
        var parts: [String]
        switch a {
        case .lowRank(let r, let diagonal): parts = ["low_rank", "rank=\(r)", "diagonal=\(diagonal)"]
        case .mlp(let h): parts = ["mlp", "hidden=\(h)", "activation=relu"]
        }
        parts += ["input=\(input)", "output=\(output)"]
        var offset = 0
        for p in AdapterMap.layout(a, input: input, output: output) {
            parts.append("\(p.name):\(p.rows)x\(p.cols)@\(offset)")
            offset += p.rows * p.cols
        }
        return parts.joined(separator: ";")
    }

    static func writeAdapter(_ a: AdapterMap, to path: String, extra: [String: Any]) throws {
        guard URL(fileURLWithPath: path).pathExtension.lowercased() == "npy" else {
            throw EmbdiagError.usage("\(path): \(Setting.saveMapping) writes a .npy file (plus its .json metadata)")
        }
        let values = a.parameters.flatMap(\.values)
        try NpyFloat64.write(values, rows: values.count, cols: 1, to: path)
        var metadata = extra
        metadata["kind"] = "adapter"
        metadata["format_version"] = 2
        metadata["fit"] = a.fit.description
        metadata["input_dim"] = a.inputDimension
        metadata["output_dim"] = a.outputDimension
        switch a.architecture {
        case .lowRank(let r, let diagonal):
            metadata["architecture"] = "low_rank"
            metadata["rank"] = r
            metadata["diagonal"] = diagonal
            metadata["formula"] = diagonal ? "y = x ⊙ s + (x · U) · V + b" : "y = (x · U) · V + b"
        case .mlp(let h):
            metadata["architecture"] = "mlp"
            metadata["hidden"] = h
            metadata["activation"] = "relu"
            metadata["formula"] = "y = x · A + max(0, x · W1 + b1) · W2 + b2"
        }
        var offset = 0
        metadata["parameters"] = a.parameters.map { p -> [String: Any] in
            defer { offset += p.values.count }
            return ["name": p.name, "rows": p.rows, "cols": p.cols, "offset": offset]
        }
        // The file as written by this call (AtomicFile may still hold it under its temporary name).
        metadata["parameters_sha256"] = try Checksum.sha256(ofFile: AtomicFile.currentPath(of: path))
        metadata["layout_sha256"] = Checksum.sha256(Data(layoutText(a.architecture, input: a.inputDimension, output: a.outputDimension).utf8))
        if let t = a.training {
            metadata["training"] = [
                "optimizer": "adam (full batch)", "learning_rate": t.settings.learningRate, "beta1": t.settings.beta1,
                "beta2": t.settings.beta2, "epsilon": t.settings.epsilon, "max_steps": t.settings.maxSteps,
                "patience": t.settings.patience, "fit_rows": t.fitRows, "validation_rows": t.validationRows,
                "steps": t.steps, "best_step": t.bestStep, "train_mse": t.trainLoss, "validation_mse": t.validationLoss,
                "loss": "mean squared error", "precision": "float64",
            ] as [String: Any]
        }
        metadata["tool"] = "embdiag"
        metadata["version"] = embdiagVersion
        try AtomicFile.write(try sealedMetadata(metadata), to: metadataPath(path))
    }

    static func readAdapter(_ path: String, meta: String, json: [String: Any]) throws -> AdapterMap {
        func int(_ key: String) throws -> Int {
            // jsonInteger, not `as? Int` with `!(v is Bool)`: on Linux a JSON 1 or 0 is also a Bool.
            guard let i = jsonInteger(json[key]) else { throw EmbdiagError.malformed(meta, "\(key) is missing or not a whole number") }
            return i
        }
        guard jsonInteger(json["format_version"]) == 2 else {
            throw EmbdiagError.malformed(meta, "kind adapter needs format_version 2")
        }
        let dx = try int("input_dim"), dy = try int("output_dim")
        guard dx >= 1, dy >= 1, dx <= 1 << 20, dy <= 1 << 20 else {
            throw EmbdiagError.malformed(meta, "input_dim \(dx) / output_dim \(dy) out of range")
        }
        let arch: AdapterMap.Architecture
        switch json["architecture"] as? String {
        case "low_rank":
            let r = try int("rank")
            guard let diagonal = json["diagonal"] as? Bool, diagonal == (dx == dy), r >= 1, r <= min(dx, dy) else {
                throw EmbdiagError.malformed(meta, "low_rank adapter: rank \(r) or diagonal does not fit \(dx) → \(dy)")
            }
            arch = .lowRank(rank: r, diagonal: diagonal)
        case "mlp":
            let h = try int("hidden")
            guard h >= 1, h <= MappingFamily.maximumWidth, (json["activation"] as? String) == "relu" else {
                throw EmbdiagError.malformed(meta, "mlp adapter: hidden \(h) or activation not supported")
            }
            arch = .mlp(hidden: h)
        default:
            throw EmbdiagError.malformed(meta, "architecture must be low_rank or mlp")
        }
        guard let layoutSum = json["layout_sha256"] as? String,
              layoutSum == Checksum.sha256(Data(layoutText(arch, input: dx, output: dy).utf8)) else {
            throw EmbdiagError.mismatch(meta, "layout_sha256 is missing or does not match the architecture and dimensions: the metadata was edited after the fit")
        }
        let layout = AdapterMap.layout(arch, input: dx, output: dy)
        guard let entries = json["parameters"] as? [[String: Any]], entries.count == layout.count else {
            throw EmbdiagError.malformed(meta, "parameters must list \(layout.count) blocks")
        }
        var offset = 0
        for (e, spec) in zip(entries, layout) {
            guard (e["name"] as? String) == spec.name, (e["rows"] as? Int) == spec.rows, (e["cols"] as? Int) == spec.cols,
                  (e["offset"] as? Int) == offset else {
                throw EmbdiagError.malformed(meta, "parameter block \(spec.name) must be \(spec.rows) × \(spec.cols) at offset \(offset)")
            }
            offset += spec.rows * spec.cols
        }
        guard let recorded = json["parameters_sha256"] as? String else {
            throw EmbdiagError.malformed(meta, "no parameters_sha256: an adapter file must carry the checksum of its parameters")
        }
        let actual = try Checksum.sha256(ofFile: path)
        guard actual == recorded else {
            throw EmbdiagError.mismatch(path, "SHA-256 \(actual.prefix(12))… differs from the \(recorded.prefix(12))… recorded in \(meta): the parameters were changed after the fit")
        }
        try verifyMetadata(json, meta: meta)
        let stored = try NpyFloat64.read(path)
        guard stored.cols == 1, stored.rows == offset else {
            throw EmbdiagError.mismatch(path, "holds \(stored.rows) × \(stored.cols) values; \(meta) describes \(offset) × 1")
        }
        if let i = stored.values.firstIndex(where: { !$0.isFinite }) {
            throw EmbdiagError.invalid(path, "adapter parameter value \(i) is \(stored.values[i]), not a finite number")
        }
        offset = 0
        let params = layout.map { spec -> AdapterParameter in
            defer { offset += spec.rows * spec.cols }
            return AdapterParameter(name: spec.name, rows: spec.rows, cols: spec.cols,
                                    values: Array(stored.values[offset..<(offset + spec.rows * spec.cols)]))
        }
        return AdapterMap(architecture: arch, inputDimension: dx, outputDimension: dy, parameters: params)
    }
}
