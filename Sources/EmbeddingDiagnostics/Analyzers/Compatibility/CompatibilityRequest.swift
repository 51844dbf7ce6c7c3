import Foundation

/// Everything `compat` compares, as read and before pairing: OLD and NEW, how their rows pair,
/// the per-row lists (class labels, item names, training rows) in OLD's file order, and the
/// optional separate queries. `CompatibilityRun` pairs, validates and analyses it, so a Swift
/// caller and the command line get the same pairs, checks, notes and report.
public struct CompatibilityRequest: Sendable {
    public var old: Embeddings
    public var new: Embeddings
    /// Row i with row i, or by item id.
    public var pairing: RowPairing
    /// What to do with a pair where either side is NaN/Inf or all-zero.
    public var invalidRows: InvalidRowPolicy
    /// One class label per OLD row (relevance = same label); `labelsSource` names the file for messages.
    public var labels: [String]?
    public var labelsSource: String?
    /// One name per OLD row, shown in the tables (`--names`; the OLD ids when pairing by id).
    public var itemNames: [String]?
    /// `--train-rows`: OLD row indices or item ids, resolved after pairing.
    public var trainRows: TrainRowsList?
    public var oldQueries: Embeddings?
    public var newQueries: Embeddings?
    /// One class label per query row.
    public var queryLabels: [String]?
    /// Set when NEW was derived from OLD (`--new int8` …).
    public var compression: Compression?

    public init(old: Embeddings, new: Embeddings, pairing: RowPairing = .rowIndex, invalidRows: InvalidRowPolicy = .error,
                labels: [String]? = nil, labelsSource: String? = nil, itemNames: [String]? = nil, trainRows: TrainRowsList? = nil,
                oldQueries: Embeddings? = nil, newQueries: Embeddings? = nil, queryLabels: [String]? = nil, compression: Compression? = nil) {
        self.old = old
        self.new = new
        self.pairing = pairing
        self.invalidRows = invalidRows
        self.labels = labels
        self.labelsSource = labelsSource
        self.itemNames = itemNames
        self.trainRows = trainRows
        self.oldQueries = oldQueries
        self.newQueries = newQueries
        self.queryLabels = queryLabels
        self.compression = compression
    }
}

/// One `compat` run: the request paired and validated, the analysis, and its report with the
/// pairing's note, the `paired_rows` metric and the dropped pairs.
public struct CompatibilityRun: Sendable {
    /// nil only for `--fit unpaired` when OLD and NEW share no row: nothing to compare on.
    public let analysis: CompatibilityAnalysis?
    public let report: Report
    /// `--fit unpaired`: the alignment that found the map (judged by `analysis` when rows are shared).
    public let unpaired: UnpairedAlignment?
    /// The paired, validated OLD rows' source (recorded in a saved mapping's metadata).
    public let oldSource: Source
    public let newSource: Source

    /// Pairs the rows, drops or refuses invalid pairs, checks the lists against the pairs, then
    /// runs the analysis. With `--fit unpaired` the map is first found from the rows without a
    /// partner (`UnpairedSplit`, `UnpairedAlignment`); the shared rows, if any, then judge it.
    /// - Complexity: the pairing is O(rows) (hashing ids); the analysis is `CompatibilityAnalysis`'s,
    ///   plus `UnpairedAlignment.fit` for `--fit unpaired`.
    public init(_ request: CompatibilityRequest, configuration: CompatibilityConfiguration = CompatibilityConfiguration()) throws {
        var configuration = configuration
        if configuration.fit == .unpaired {
            try UnpairedSplit.refuseUnsupported(request, configuration)
            try configuration.validate()
            let split = try UnpairedSplit(request)
            let alignment = try UnpairedAlignment.fit(old: request.old.matrix.gather(rows: split.oldRows), new: request.new.matrix.gather(rows: split.newRows),
                                                      oldName: request.old.source.path, newName: request.new.source.path,
                                                      settings: configuration.unpairedSettings, seed: configuration.seed)
            configuration.unpairedAlignment = alignment
            unpaired = alignment
            if split.sharedPairs < 2 {
                var notes: [String] = []
                if split.droppedOld + split.droppedNew > 0 {
                    notes.append("Rows left out as invalid (--on-invalid drop): \(split.droppedOld) OLD, \(split.droppedNew) NEW.")
                }
                analysis = nil
                report = alignment.unjudgedReport(inputs: [request.old.source, request.new.source], sharedRows: split.sharedPairs,
                                                  seed: configuration.seed, notes: notes)
                oldSource = request.old.source
                newSource = request.new.source
                return
            }
        } else {
            unpaired = nil
        }
        if let l = request.labels, request.oldQueries == nil, Set(l.map(LabelKey.init)).count == l.count {
            throw EmbdiagError.invalid(request.labelsSource ?? "labels", "all \(l.count) labels are unique, so no query has a relevant row (--labels gives classes: relevance = same label, own row excluded). To pair OLD and NEW rows by item id use --pair-by label --old-ids FILE --new-ids FILE")
        }
        let oldRowCount = request.old.count
        let paired = try PairedEmbeddings(request.old, request.new, pairing: request.pairing, invalidRows: request.invalidRows, roles: ("OLD", "NEW"))
        let pairingNote = paired.pairingSummary(roles: ("OLD", "NEW"), rowsInFirst: request.old.count, rowsInSecond: request.new.count)
        let droppedTable = paired.droppedPairsTable(title: "Pairs dropped (--on-invalid drop); row = OLD row", names: request.itemNames)
        var old = paired.first, new = paired.second
        let itemNames = request.itemNames.map(paired.pairedFirst)
        if let trainRows = request.trainRows {
            configuration.trainRows = try trainRows.positions(pairedRows: paired.firstRows, rowCount: oldRowCount, ids: itemNames)
        }
        old.labels = itemNames
        new.labels = nil
        let analysis = try CompatibilityAnalysis(
            CompatibilityInputs(old: old, new: new, oldQueries: request.oldQueries, newQueries: request.newQueries,
                                labels: request.labels.map(paired.pairedFirst), queryLabels: request.queryLabels, compression: request.compression),
            configuration: configuration)
        self.analysis = analysis
        var report = analysis.report()
        if let droppedTable { report.tables.append(droppedTable) }
        if let pairingNote {
            report.notes.append(pairingNote)
            report.metrics.append(ReportMetric("paired_rows", "items paired by id (before validation)", .int(paired.pairsBeforeValidation)))
        }
        self.report = report
        oldSource = old.source
        newSource = new.source
    }
}
