import Foundation

/// The report parts of the regions and the map (metrics, tables, the map chart, the sentence).
extension ShiftAnalysis {
    /// Points drawn on a map at most (a seeded sample above this, stated under the map).
    public static let mapPointLimit = 2000
    /// Density grid of the reference on the map.
    public static let mapGrid = (columns: 64, rows: 40)

    /// "What grew, what vanished, what is new" for comparison `index` ("" when no test ran).
    public func regionSentence(_ index: Int) -> String {
        guard let r = comparisons[index].regions else { return "" }
        let other = others[index]
        return r.summary(setName: Self.fileName(comparisons[index].other), referenceName: Self.fileName(comparisons[index].reference)) { j in
            Self.quote([j][...], other)
        }
    }

    /// The first comparison's region metrics (gateable).
    func regionMetrics() -> [ReportMetric] {
        let regions = referenceRegions
        var metrics = [ReportMetric("clusters", "reference clusters (k-means on unit rows; \(regions.countFromRule ? "k = round(√(m/10)) in [2, 12]" : "--clusters"))", .int(regions.count))]
        guard let r = comparisons[0].regions else { return metrics }
        metrics += [
            ReportMetric("clusters_changed", "clusters whose share changed (Benjamini–Hochberg p < α)", .int(r.changedCount)),
            ReportMetric("cluster_max_share_change", "largest |share change| of a cluster (other share − reference share)", ReportValue(r.clusters.first.map { abs($0.shareChange) } ?? 0)),
            ReportMetric("new_region_share", "share of other rows outside every reference row's \(regions.neighbors)-NN ball", ReportValue(r.newShare)),
            ReportMetric("new_region_share_reference", "the reference's own rate: rows no other reference row has among its \(regions.neighbors) nearest neighbours", ReportValue(r.referenceNewShare)),
            ReportMetric("p_value_new_region", "p-value, new-region share vs the reference's own rate (\(r.newRegionTest.kind == .chiSquared ? "χ²" : "Fisher exact"))", ReportValue(r.newRegionTest.pValue)),
        ]
        return metrics
    }

    /// Tables `clusters` and `new_regions` of comparison `index`.
    func regionTables(_ index: Int, suffix: String) -> [ReportTable] {
        guard let r = comparisons[index].regions else { return [] }
        return r.tables(regions: referenceRegions, reference: reference, other: others[index], referencePath: comparisons[index].reference.path,
                        otherPath: comparisons[index].other.path, clustersName: "clusters\(suffix)", newRegionsName: "new_regions\(suffix)")
    }

    /// The map of comparison `index` (nil when no test ran).
    func regionMap(_ index: Int, suffix: String) -> ReportChart? {
        let comp = comparisons[index]
        guard let map = comp.map, let regions = comp.regions else { return nil }
        let other = others[index], n = map.otherX.count
        let xs = map.referenceX + map.otherX, ys = map.referenceY + map.otherY
        guard let xl = xs.min(), let xh = xs.max(), let yl = ys.min(), let yh = ys.max() else { return nil }
        let px = max(xh - xl, 1e-12) * 0.03, py = max(yh - yl, 1e-12) * 0.03
        let xRange = (xl - px)...(xh + px), yRange = (yl - py)...(yh + py)
        let grid = MapLayers.bin(x: map.referenceX, y: map.referenceY, xRange: xRange, yRange: yRange,
                                 columns: Self.mapGrid.columns, rows: Self.mapGrid.rows)
        var drawn = Array(0..<n)
        if n > Self.mapPointLimit {
            var rng = SeededGenerator(seed: configuration.seed &+ 0x3A9)
            drawn = rng.sampleIndices(n, count: Self.mapPointLimit)
        }
        let witness = comp.location?.otherWitness
        let isNew = Set(regions.newRows)
        let values = drawn.map { witness?[$0] ?? 0 }
        let magnitudes = values.map(abs).filter(\.isFinite).sorted()
        let scale = magnitudes.isEmpty ? 1 : magnitudes[Int(0.98 * Double(magnitudes.count - 1))]
        let points = drawn.map { j -> MapLayers.Point in
            var title = "row \(other.sourceRow(j))"
            if other.labels != nil { title += " · " + String(other.label(j).replacingOccurrences(of: "\n", with: " ").prefix(120)) }
            title += " · C\(regions.assignment[j] + 1)"
            if let w = witness?[j] { title += " · witness " + ReportFormatting.number(w, significant: 3) }
            if isNew.contains(j) { title += " · new (outside every reference neighbourhood)" }
            return MapLayers.Point(x: map.otherX[j], y: map.otherY[j], value: witness?[j] ?? 0, title: title, outlined: isNew.contains(j))
        }
        let centres = referenceRegions.names.indices.map { c in
            ChartPoint(x: map.centreX[c], y: map.centreY[c], label: "C\(c + 1) \(referenceRegions.names[c])")
        }
        let name = Self.fileName(comp.other), refName = Self.fileName(comp.reference)
        var layers = MapLayers(xRange: xRange, yRange: yRange, gridColumns: Self.mapGrid.columns, gridRows: Self.mapGrid.rows, density: grid,
                               densityName: refName, points: points, pointsName: name, valueScale: scale > 0 ? scale : 1, valueName: "witness", centres: centres)
        layers.valueName = witness == nil ? "no witness" : "witness"
        let variance = map.explainedVariance.map { String(format: "%.1f %%", $0 * 100) }.joined(separator: " and ")
        let sampled = n > Self.mapPointLimit
            ? "A seeded sample of \(Self.mapPointLimit) of \(name)'s \(n) rows is drawn (seed \(configuration.seed) + 937); the density shows every \(refName) row (\(map.referenceX.count)) in a \(Self.mapGrid.columns) × \(Self.mapGrid.rows) grid."
            : "Every row of \(name) is drawn; the density shows every \(refName) row in a \(Self.mapGrid.columns) × \(Self.mapGrid.rows) grid."
        var chart = ReportChart(
            name: "map\(suffix)", title: "Map: \(refName) (grey density) and \(name) (points coloured by the witness)", kind: .map,
            xLabel: "principal component 1 of the pooled unit rows (\(map.explainedVariance.first.map { String(format: "%.1f %%", $0 * 100) } ?? "—"))",
            yLabel: "component 2 (\(map.explainedVariance.count > 1 ? String(format: "%.1f %%", map.explainedVariance[1] * 100) : "none: d = 1"))",
            series: [],
            caption: "PCA of the pooled unit rows (\(variance) of the variance): deterministic and the same axes for every run on these rows; a neighbour embedding (t-SNE/UMAP) would keep neighbourhoods better but is stochastic, so it is not drawn — tests, clusters and new rows are computed in the full space, not on this picture. Red points: \(name) has more mass there than \(refName) (witness > 0), blue: less; colours saturate at |witness| = \(ReportFormatting.number(scale, significant: 3)) (98th percentile). Outlined points are new rows (outside every \(refName) row's \(referenceRegions.neighbors)-NN ball). Crosses mark the \(refName) cluster centres. \(sampled) Hover a point for its row and label.\(map.smallestEigenGap < 1e-3 ? " Components 1–3 have nearly equal variance (relative gap \(ReportFormatting.number(map.smallestEigenGap, significant: 2))): the axes are not well defined, and the picture may turn between machines." : "")")
        chart.map = layers
        return chart
    }

    /// Notes on how the regions were fitted.
    func regionNotes() -> [String] {
        let r = referenceRegions
        var notes = ["Regions: k-means (seed \(configuration.seed), \(ReferenceRegions.restarts) restarts, at most \(ReferenceRegions.iterations) Lloyd iterations) on the reference's unit rows\(r.fitRows < r.referenceRows ? " — fitted on a seeded sample of \(r.fitRows) of its \(r.referenceRows) rows, then every row assigned" : ""); every row belongs to its nearest centre. A cluster's share in each other corpus is compared with its reference share by a two-sided test (χ² when every expected count is ≥ 5, else Fisher's exact test), Benjamini–Hochberg across the clusters. New rows: other rows outside every reference row's \(r.neighbors)-NN ball, compared with the reference's own leave-one-out rate by the same test."]
        if r.count < r.requestedCount {
            notes.append("Clusters: \(r.requestedCount) asked for, \(r.count) kept — the reference has too few distinct rows for more (a centre no reference row is nearest to was removed).")
        }
        return notes
    }
}

extension RegionShift {
    /// The `clusters` table (every reference cluster, largest change first) and, when some rows
    /// are new, the `new_regions` table of one comparison set.
    func tables(regions: ReferenceRegions, reference: Embeddings, other: Embeddings, referencePath: String, otherPath: String,
                clustersName: String, newRegionsName: String) -> [ReportTable] {
        let r = self
        func quoted(_ rows: [Int], _ e: Embeddings) -> String { rows.map { e.label($0).replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ") }
        var tables = [ReportTable(
            name: clustersName,
            title: "Clusters of \(referencePath) and their share in \(otherPath) (largest change first; test per cluster, Benjamini–Hochberg across the \(regions.count) clusters)",
            columns: ["cluster", "name", "n_reference", "n_other", "share_reference", "share_other", "share_change", "p_value", "p_bh", "test", "change",
                      "reference_examples", "other_examples"],
            rows: r.clusters.map { c in
                [.string("C\(c.cluster + 1)"), .string(c.name), .int(c.referenceCount), .int(c.otherCount), ReportValue(c.referenceShare), ReportValue(c.otherShare),
                 ReportValue(c.shareChange), ReportValue(c.test.pValue), ReportValue(c.adjustedPValue), .string(c.test.kind.rawValue), .string(c.direction.rawValue),
                 .string(quoted(regions.exemplars[c.cluster], reference)), .string(quoted(c.otherExemplars, other))]
            }, textRowLimit: 20)]
        if !r.newRegions.isEmpty {
            tables.append(ReportTable(
                name: newRegionsName,
                title: "Rows of \(otherPath) outside every reference row's \(regions.neighbors)-NN ball (\(r.newRows.count) of \(r.rows); the reference's own rate \(RegionShift.percent(r.referenceNewShare))), grouped by k-means",
                columns: ["group", "name", "n_other", "share_other", "nearest_cluster", "examples"],
                rows: r.newRegions.enumerated().map { g, region in
                    [.string("N\(g + 1)"), .string(region.name), .int(region.rows.count), ReportValue(region.share),
                     .string("C\(region.nearestCluster + 1)"), .string(quoted(Array(region.rows.prefix(ReferenceRegions.exemplarCount)), other))]
                }))
        }
        return tables
    }
}
