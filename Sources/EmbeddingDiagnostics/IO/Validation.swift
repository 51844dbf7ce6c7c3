import Foundation

/// What is wrong with the values of an embedding matrix: missing (null) vectors, rows with NaN/Inf,
/// all-zero rows, duplicate labels. Computed on load by `embdiag info`, enforced by analyzers.
public struct ValidationSummary: Sendable, Equatable {
    /// Rows whose vector was missing in the source (a SQL/Parquet null, kept as a NaN row by
    /// `--on-invalid drop`: `Embeddings.nullRows`). Not counted in `nanRows`.
    public internal(set) var nullRows: [Int] = []
    /// Rows with a NaN value that were not null in the source.
    public internal(set) var nanRows: [Int] = []
    public internal(set) var infinityRows: [Int] = []
    public internal(set) var zeroRows: [Int] = []
    /// Labels that occur more than once, with their count.
    public internal(set) var duplicateLabels: [(label: String, count: Int)] = []

    public static func == (a: ValidationSummary, b: ValidationSummary) -> Bool {
        a.nullRows == b.nullRows && a.nanRows == b.nanRows && a.infinityRows == b.infinityRows && a.zeroRows == b.zeroRows
            && a.duplicateLabels.map({ LabelKey($0.label) }) == b.duplicateLabels.map({ LabelKey($0.label) })
            && a.duplicateLabels.map(\.count) == b.duplicateLabels.map(\.count)
    }

    /// Rows with NaN or Inf, null rows included (sorted, unique).
    public var nonFiniteRows: [Int] { Array(Set(nanRows).union(infinityRows).union(nullRows)).sorted() }
    public var isClean: Bool { nullRows.isEmpty && nanRows.isEmpty && infinityRows.isEmpty && zeroRows.isEmpty }

    /// Scans every value once (both cores).
    public init(_ e: Embeddings) {
        let m = e.matrix
        let d = m.cols
        let base = m.pointer
        let lock = NSLock()
        var nan: [Int] = [], inf: [Int] = [], zero: [Int] = []
        parallelChunks(m.rows, minimumChunk: 8192) { range in
            var n: [Int] = [], f: [Int] = [], z: [Int] = []
            for i in range {
                let r = base + i * d
                // Fast screen, sixteen values at a time: x − x is NaN exactly for NaN/Inf, and the OR
                // of the magnitude bits is 0 exactly for an all-zero row. Rows it flags are classified
                // by the scalar loop below.
                var poison = SIMD16<Float>(), bits = SIMD16<UInt32>()
                let raw = UnsafeRawPointer(r)
                var j = 0
                while j + 16 <= d {
                    let x = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                    poison += x - x
                    bits |= unsafeBitCast(x, to: SIMD16<UInt32>.self)
                    j += 16
                }
                var tailPoison: Float = 0, tailBits: UInt32 = 0
                while j < d { tailPoison += r[j] - r[j]; tailBits |= r[j].bitPattern; j += 1 }
                let magnitude = (bits & SIMD16<UInt32>(repeating: 0x7fff_ffff)).max() | (tailBits & 0x7fff_ffff)
                if poison.sum() == 0 && tailPoison == 0 && magnitude != 0 { continue }
                var hasNaN = false, hasInf = false, allZero = true
                for j in 0..<d {
                    let v = r[j]
                    if v.isNaN { hasNaN = true } else if v.isInfinite { hasInf = true }
                    if v != 0 { allZero = false }
                }
                if hasNaN { n.append(i) }
                if hasInf { f.append(i) }
                if allZero && d > 0 { z.append(i) }
            }
            lock.lock(); nan += n; inf += f; zero += z; lock.unlock()
        }
        let null = Set(e.nullRows)
        nullRows = null.sorted()
        nanRows = nan.filter { !null.contains($0) }.sorted()
        infinityRows = inf.sorted()
        zeroRows = zero.sorted()
        if let labels = e.labels {
            // Exact code points: canonically equivalent spellings are different labels.
            var counts: [LabelKey: Int] = [:]
            for l in labels { counts[LabelKey(l), default: 0] += 1 }
            duplicateLabels = counts.filter { $0.value > 1 }.map { ($0.key.string, $0.value) }.sorted { LabelKey.precedes($0.label, $1.label) }
        }
    }

    /// Up to `limit` row numbers as text, e.g. "3, 17, 40 and 12 more".
    public static func describe(_ rows: [Int], limit: Int = 5) -> String {
        let shown = rows.prefix(limit).map(String.init).joined(separator: ", ")
        return rows.count > limit ? "\(shown) and \(rows.count - limit) more" : shown
    }
}

/// What to do with NaN/Inf and all-zero rows (`--on-invalid`).
public enum InvalidRowPolicy: String, Sendable, CaseIterable {
    /// Stop with an error naming the rows (default).
    case error
    /// Drop them; the report lists which and why.
    case drop
}

/// A row removed by `InvalidRowPolicy.drop`.
public struct DroppedRow: Sendable, Equatable {
    public internal(set) var row: Int
    public internal(set) var label: String?
    public internal(set) var reason: String
}

extension Embeddings {
    /// Embeddings fit for analyses that need norms: no NaN/Inf, no zero rows. With `.error`,
    /// throws naming the file and rows; with `.drop`, removes them and says which.
    public func requiringFiniteNonZeroRows(policy: InvalidRowPolicy = .error) throws -> (embeddings: Embeddings, dropped: [DroppedRow]) {
        let summary = ValidationSummary(self)
        if summary.isClean { return (self, []) }
        switch policy {
        case .error:
            var problems: [String] = []
            if !summary.nullRows.isEmpty { problems.append("null (missing) vector in \(summary.nullRows.count) row(s) (\(ValidationSummary.describe(summary.nullRows)))") }
            if !summary.nanRows.isEmpty { problems.append("NaN in \(summary.nanRows.count) row(s) (\(ValidationSummary.describe(summary.nanRows)))") }
            if !summary.infinityRows.isEmpty { problems.append("Inf in \(summary.infinityRows.count) row(s) (\(ValidationSummary.describe(summary.infinityRows)))") }
            if !summary.zeroRows.isEmpty { problems.append("\(summary.zeroRows.count) all-zero row(s) (\(ValidationSummary.describe(summary.zeroRows)))") }
            throw EmbdiagError.invalid(source.path, problems.joined(separator: "; ") + " (rows are 0-based; use \(Setting.onInvalid) drop to skip them)")
        case .drop:
            let dropped = invalidRows(summary)
            guard dropped.count < count else { throw EmbdiagError.invalid(source.path, "every row is NaN/Inf or all-zero: nothing left to analyse") }
            let bad = Set(dropped.map(\.row))
            return (selecting(rows: (0..<count).filter { !bad.contains($0) }), dropped)
        }
    }

    /// The rows an analysis that needs norms cannot use, with the reason (null, NaN, Inf, all-zero),
    /// sorted by row; no copy of the data.
    /// - Complexity: O(n·d) for the scan unless `summary` is given, then O(invalid rows).
    public func invalidRows(_ summary: ValidationSummary? = nil) -> [DroppedRow] {
        let summary = summary ?? ValidationSummary(self)
        var reasons: [Int: String] = [:]
        for r in summary.zeroRows { reasons[r] = "all-zero" }
        for r in summary.infinityRows { reasons[r] = "Inf" }
        for r in summary.nanRows { reasons[r] = "NaN" }
        for r in summary.nullRows { reasons[r] = "null" }
        return reasons.keys.sorted().map { DroppedRow(row: $0, label: labels?[$0], reason: reasons[$0]!) }
    }
}
