import Foundation

/// Where OTHER differs from REF: the MMD witness function at every row, the OTHER rows in regions
/// OTHER over-represents, the REF rows OTHER does not cover, and per-label shares.
/// Guide: Guides/Shift.md ("Where it shifted").
public struct ShiftLocation: Sendable {
    /// Witness h(z) = mean_{y ∈ OTHER} k(z, y) − mean_{x ∈ REF} k(z, x) (Gaussian kernel of the MMD
    /// test; the row itself left out of its own sample's mean) at every REF row…
    public internal(set) var referenceWitness: [Double]
    /// …and at every OTHER row. h > 0: OTHER has more mass around the row than REF.
    public internal(set) var otherWitness: [Double]
    /// OTHER rows by decreasing witness (ties: smaller row first): the most over-represented first.
    public internal(set) var overRepresented: [Int]
    /// REF rows whose nearest OTHER row is at least as far as their k-th nearest REF row (not
    /// covered, Naeem et al.'s criterion), by decreasing ratio of the two distances.
    public internal(set) var uncovered: [Int]
    /// Per label (when labels repeat): counts and shares in both corpora and in the drifted rows.
    public internal(set) var labels: [LabelShift]
}

/// One label's part in the shift.
public struct LabelShift: Sendable, Equatable {
    public internal(set) var label: String
    public internal(set) var referenceCount: Int
    public internal(set) var otherCount: Int
    /// Share of the label among REF rows and among OTHER rows.
    public internal(set) var referenceShare: Double
    public internal(set) var otherShare: Double
    /// OTHER rows of this label outside every REF k-NN ball (novel), and their share of all novel rows.
    public internal(set) var novelCount: Int
    public internal(set) var novelShare: Double
    /// REF rows of this label not covered by OTHER, and their share of all uncovered rows.
    public internal(set) var uncoveredCount: Int
    public internal(set) var uncoveredShare: Double
    /// Mean witness over the label's rows of both corpora (> 0: OTHER over-represents the label's region).
    public internal(set) var meanWitness: Double
}

/// Leave-one-out witness at every pooled row from the Gaussian kernel pass: with S_R(i) = Σ_{x∈REF}
/// k(z_i, x) = ((K w_0)_i + r_i/n)/(1/m + 1/n) and S_O(i) = r_i − S_R(i), the row's own k(z_i, z_i)
/// removed from its own sample's sum.
/// - Complexity: O(N).
public func leaveOneOutWitness(_ forms: KernelQuadraticForms) -> [Double] {
    let m = forms.firstCount, n = forms.secondCount
    let md = Double(m), nd = Double(n), kd = forms.kernel.diagonal
    return forms.rowSums.indices.map { i in
        let r = forms.rowSums[i]
        var sr = (forms.observedProducts[i] + r / nd) / (1 / md + 1 / nd)
        var so = r - sr
        var cr = md, co = nd
        if i < m { sr -= kd; cr -= 1 } else { so -= kd; co -= 1 }
        return (co > 0 ? so / co : 0) - (cr > 0 ? sr / cr : 0)
    }
}

/// Builds the location summary.
/// - Parameters:
///   - witness: leave-one-out witness of the pooled rows (REF first).
///   - prc: precision/recall/coverage of OTHER against REF (its per-row flags give novel and uncovered rows).
///   - referenceLabels, otherLabels: per-row labels; the per-label table is built only when some label repeats.
/// - Complexity: O(N log N).
public func shiftLocation(witness: [Double], referenceCount m: Int, prc: PrecisionRecallCoverage,
                          referenceLabels: [String]?, otherLabels: [String]?) -> ShiftLocation {
    let refW = Array(witness[..<m]), otherW = Array(witness[m...])
    let over = otherW.indices.sorted { otherW[$0] > otherW[$1] || (otherW[$0] == otherW[$1] && $0 < $1) }
    let ratio = (0..<m).map { prc.referenceRadius[$0] > 0 ? prc.referenceNearestOther[$0] / prc.referenceRadius[$0] : .infinity }
    let uncovered = (0..<m).filter { !prc.referenceCovered[$0] }
        .sorted { ratio[$0] > ratio[$1] || (ratio[$0] == ratio[$1] && $0 < $1) }
    var labels: [LabelShift] = []
    if let rl = referenceLabels, let ol = otherLabels,
       Set(rl.map(LabelKey.init)).count < rl.count || Set(ol.map(LabelKey.init)).count < ol.count {
        // Labels compared as exact code points (LabelKey); rows grouped once.
        var names: [String] = []
        var refRowsOf: [LabelKey: [Int]] = [:], otherRowsOf: [LabelKey: [Int]] = [:]
        for (i, l) in rl.enumerated() {
            let key = LabelKey(l)
            if refRowsOf[key] == nil { names.append(l) }
            refRowsOf[key, default: []].append(i)
        }
        for (i, l) in ol.enumerated() {
            let key = LabelKey(l)
            if refRowsOf[key] == nil && otherRowsOf[key] == nil { names.append(l) }
            otherRowsOf[key, default: []].append(i)
        }
        let novelTotal = prc.otherInsideReference.filter { !$0 }.count
        let uncoveredTotal = uncovered.count
        for name in names {
            let refRows = refRowsOf[LabelKey(name)] ?? [], otherRows = otherRowsOf[LabelKey(name)] ?? []
            let novel = otherRows.filter { !prc.otherInsideReference[$0] }.count
            let unc = refRows.filter { !prc.referenceCovered[$0] }.count
            let ws = refRows.map { refW[$0] } + otherRows.map { otherW[$0] }
            labels.append(LabelShift(
                label: name, referenceCount: refRows.count, otherCount: otherRows.count,
                referenceShare: Double(refRows.count) / Double(rl.count), otherShare: Double(otherRows.count) / Double(ol.count),
                novelCount: novel, novelShare: novelTotal > 0 ? Double(novel) / Double(novelTotal) : 0,
                uncoveredCount: unc, uncoveredShare: uncoveredTotal > 0 ? Double(unc) / Double(uncoveredTotal) : 0,
                meanWitness: ws.isEmpty ? 0 : ws.reduce(0, +) / Double(ws.count)))
        }
        // Largest gain in OTHER first; ties by label.
        labels.sort { a, b in
            let ga: Double = a.otherShare - a.referenceShare, gb: Double = b.otherShare - b.referenceShare
            return ga > gb || (ga == gb && a.label < b.label)
        }
    }
    return ShiftLocation(referenceWitness: refW, otherWitness: otherW, overRepresented: over, uncovered: uncovered, labels: labels)
}
