import Foundation

/// The JSON written beside a relative matrix (`relrep --write OUT`): anchors, settings, input.
public enum RelativeMatrixFile {

    /// `sourceRows`: the input row of each written row, recorded when it is not simply 0..<n
    /// (dropped rows, label pairing).
    public static func writeMetadata(to out: String, anchors: [Int], labels: [String], sourceRows: [Int], configuration c: RelativeRepresentationsConfiguration, source: Source, centered: Bool) throws {
        var metadata: [String: Any] = [
            "kind": "relative_projection", "projection": "cosine", "centering": centered, "center": c.center.rawValue,
            "anchor_rows": anchors, "anchor_labels": labels, "anchor_strategy": c.hasExplicitAnchors ? "explicit" : c.anchorStrategy.rawValue,
            "seed": Int(truncatingIfNeeded: c.seed), "tool": "embdiag", "version": embdiagVersion,
            "input": ["path": source.path, "rows": source.rows, "dim": source.dim, "sha256": source.sha256 ?? NSNull()] as [String: Any],
        ]
        if sourceRows != Array(0..<sourceRows.count) || sourceRows.count != source.rows { metadata["source_rows"] = sourceRows }
        let data = try JSONSerialization.data(withJSONObject: metadata, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: MappingFile.metadataPath(out))
    }
}
