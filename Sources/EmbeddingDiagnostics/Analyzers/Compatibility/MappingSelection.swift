import Foundation

/// One family fitted by `--fit auto` (or one point of the training-size curve): its validation MRR,
/// and its held-out retrieval once compat has evaluated it.
public struct MappingCandidate: Sendable {
    public internal(set) var fit: MappingFit
    /// nil when the family could not be fitted on these rows (`failure` says why).
    public internal(set) var map: FittedMapping?
    public internal(set) var failure: String?
    /// MRR of the mapped validation rows searching the OLD validation rows (each row's partner is
    /// its only relevant item); what `auto` selects by.
    public internal(set) var validationMRR: Double
    public internal(set) var heldOut: RetrievalSummary?
    public internal(set) var fitSeconds: Double
    public internal(set) var chosen: Bool = false
}

/// One point of the training-size curve ("how many paired rows do I need?").
public struct FitCurvePoint: Sendable {
    public internal(set) var trainRows: Int
    public internal(set) var fit: MappingFit
    /// Held-out recall@k (k = 10 capped at the held-out gallery) of the mapped NEW queries on OLD,
    /// and as a share of re-embedding (NEW queries on a NEW gallery of the same held-out rows).
    public internal(set) var recallMapped: Double
    public internal(set) var shareOfReembedding: Double
    public internal(set) var failure: String?
}

/// Fitting any family on a training split: closed-form maps on all training rows, adapters on a
/// seeded fit/validation split of them, `auto` every family on the same fit rows.
public enum MappingSelection {
    /// Fits `kind` on rows `train` of x (NEW) → y (OLD).
    /// - Complexity: that of `LinearMap.fit` or `AdapterTraining.train`; `auto` the sum over
    ///   `MappingFamily.autoCandidates` plus one validation ranking each, O(v²·dy).
    public static func fit(_ kind: MappingFit, x: Matrix, y: Matrix, train: [Int],
                           configuration: CompatibilityConfiguration) throws -> (map: FittedMapping, candidates: [MappingCandidate]) {
        if case .auto = kind {
            let split = try AdapterTraining.validationSplit(count: train.count, seed: configuration.seed, settings: configuration.adapterSettings)
            let fitRows = split.fit.map { train[$0] }, valRows = split.validation.map { train[$0] }
            var candidates: [MappingCandidate] = []
            for candidate in MappingFamily.autoCandidates {
                let start = Date()
                do {
                    let map = try fitOne(candidate, x: x, y: y, fit: fitRows, validation: valRows, configuration: configuration)
                    let mrr = try validationMRR(map, x: x, y: y, rows: valRows)
                    candidates.append(MappingCandidate(fit: map.fit, map: map, failure: nil, validationMRR: mrr,
                                                       heldOut: nil, fitSeconds: Date().timeIntervalSince(start)))
                } catch let e as EmbdiagError {
                    candidates.append(MappingCandidate(fit: candidate, map: nil, failure: e.description, validationMRR: .nan,
                                                       heldOut: nil, fitSeconds: Date().timeIntervalSince(start)))
                }
            }
            // Highest validation MRR; ties to the earlier (simpler) family of the list.
            guard let best = candidates.indices.filter({ candidates[$0].map != nil && !candidates[$0].validationMRR.isNaN })
                .max(by: { candidates[$0].validationMRR < candidates[$1].validationMRR || (candidates[$0].validationMRR == candidates[$1].validationMRR && $0 > $1) }) else {
                throw EmbdiagError.invalid(nil, "\(Setting.fit) auto: no family could be fitted (\(candidates.compactMap(\.failure).joined(separator: "; ")))")
            }
            candidates[best].chosen = true
            return (candidates[best].map!, candidates)
        }
        if kind.isAdapter {
            let split = try AdapterTraining.validationSplit(count: train.count, seed: configuration.seed, settings: configuration.adapterSettings)
            return (try fitOne(kind, x: x, y: y, fit: split.fit.map { train[$0] }, validation: split.validation.map { train[$0] },
                               configuration: configuration), [])
        }
        return (try fitOne(kind, x: x, y: y, fit: train, validation: [], configuration: configuration), [])
    }

    /// One family on `fit` rows (`validation` rows: early stopping of adapters only).
    static func fitOne(_ kind: MappingFit, x: Matrix, y: Matrix, fit: [Int], validation: [Int],
                       configuration: CompatibilityConfiguration) throws -> FittedMapping {
        if kind.isAdapter {
            return .adapter(try AdapterTraining.train(kind, x: x, y: y, fit: fit, validation: validation,
                                                      seed: configuration.seed, settings: configuration.adapterSettings))
        }
        return .linear(try LinearMap.fit(kind, from: x.gather(rows: fit), to: y.gather(rows: fit),
                                         options: MappingFitOptions(ridgeGrid: configuration.ridgeGrid, rcond: configuration.rcond)))
    }

    /// MRR of mapped NEW validation rows among the OLD validation rows (partner = relevant).
    static func validationMRR(_ map: FittedMapping, x: Matrix, y: Matrix, rows: [Int]) throws -> Double {
        let q = try map.apply(x.gather(rows: rows))
        Matrix.normalizeRowsInPlace(q)
        let g = Matrix.normalizedRows(y.gather(rows: rows))
        let ranks = Retrieval.retrievalRanks(queries: q, gallery: g, relevance: .index(Array(0..<rows.count)))
        return RetrievalSummary(name: "validation", ks: [1], ranks: ranks).mrr
    }

    /// Nested training subsets for the curve: the first m rows of one seeded order of `train`, so
    /// a larger size always contains the smaller ones.
    static func curveSubsets(train: [Int], sizes: [Int], seed: UInt64) throws -> [(Int, [Int])] {
        var rng = SeededGenerator(seed: seed &+ 6)
        let keys = train.map { _ in rng.nextUniform() }
        let order = train.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }.map { train[$0] }
        return try sizes.map { m in
            guard m <= train.count else {
                throw EmbdiagError.usage("\(Setting.fitCurve) \(m) is more than the \(train.count) training rows; raise \(Setting.trainFraction) or drop the size")
            }
            return (m, Array(order[..<m]).sorted())
        }
    }
}
