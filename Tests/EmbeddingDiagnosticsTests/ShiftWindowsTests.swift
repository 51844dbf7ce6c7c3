import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// `shift` over windows: cutting a corpus into windows (chunks, keys, dates), the per-window tests
/// against `ShiftAnalysis`, the effect against MMD²_u, the band against a brute-force
/// leave-chunk-out computation in Float64, determinism across window positions, and the level of
/// the windows flow under H₀ (windows drawn like the reference).
@Suite struct ShiftWindowsTests {
    static let sentences: Embeddings = try! EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-minilm-l6.npy").path)

    static func configuration(permutations: Int = 199, tests: [ShiftTestKind] = ShiftTestKind.defaults) -> ShiftConfiguration {
        var c = ShiftConfiguration()
        c.permutations = permutations
        c.tests = tests
        return c
    }

    // MARK: cutting into windows

    @Test func chunksCoverEveryRowOnceInOrder() throws {
        let g = try WindowGroups.chunks(count: 10, size: 4)
        #expect(g.map(\.rows) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(try WindowGroups.chunks(count: 3, size: 10).map(\.rows) == [[0, 1, 2]])
        #expect(throws: EmbdiagError.self) { try WindowGroups.chunks(count: 10, size: 0) }
        #expect(throws: EmbdiagError.self) { try WindowGroups.chunks(count: 10, size: -1) }
    }

    @Test func timeWindowsAreEpochAlignedAndInTimeOrder() throws {
        let keys = ["2024-01-03", "2024-01-01T23:59:59Z", "2024-01-02T00:00:00+01:00", "2024-01-01", "2024-01-09 12:00"]
        let day = try WindowGroups.byKeys(keys, width: WindowWidth(parsing: "1d"), origin: "k")
        #expect(day.map(\.name) == ["2024-01-01", "2024-01-03", "2024-01-09"])
        // 2024-01-02T00:00+01:00 is 2024-01-01T23:00Z.
        #expect(day[0].rows == [1, 2, 3])
        let week = try WindowGroups.byKeys(keys, width: WindowWidth(parsing: "7d"), origin: "k")
        // Epoch weeks start on Thursdays: 2023-12-28, 2024-01-04.
        #expect(week.map(\.name) == ["2023-12-28", "2024-01-04"])
        #expect(week.map(\.rows.count) == [4, 1])
        let hours = try WindowGroups.byKeys(["2024-01-01T05:30Z", "2024-01-01T17:00Z"], width: WindowWidth(parsing: "12h"), origin: "k")
        #expect(hours.map(\.name) == ["2024-01-01T00:00Z", "2024-01-01T12:00Z"])
    }

    @Test func keysWithoutWidthGroupByValue() throws {
        #expect(try WindowGroups.byKeys(["b", "a", "b", "c"], width: nil, origin: "k").map(\.name) == ["b", "a", "c"])
        #expect(try WindowGroups.byKeys(["10", "9", "10", "-1"], width: nil, origin: "k").map(\.name) == ["-1", "9", "10"])
        #expect(try WindowGroups.byKeys(["2024-01-02", "2024-01-01"], width: nil, origin: "k").map(\.name) == ["2024-01-01", "2024-01-02"])
        #expect(try WindowGroups.byKeys(["x", "x"], width: nil, origin: "k").count == 1)
    }

    @Test func badKeysAreRefusedNamingTheRow() {
        func refused(_ keys: [String], _ width: String?, _ words: String) {
            do {
                _ = try WindowGroups.byKeys(keys, width: width.map { try WindowWidth(parsing: $0) }, origin: "keys.txt")
                Issue.record("accepted \(keys)")
            } catch let e as EmbdiagError {
                #expect(e.description.contains(words), "\(e.description)")
                #expect(e.exitCode == 2)
            } catch { Issue.record("\(error)") }
        }
        refused(["2024-01-01", "2024-02-30"], "1d", "row 1: '2024-02-30' is not a date")
        refused(["2024-01-01", "yesterday"], "1d", "row 1")
        refused(["2024-01-01", "17"], nil, "mixed window keys")
        refused(["1", "b"], nil, "mixed window keys")
        refused(["a", " "], nil, "row 1: empty window key")
        refused(["2024-13-01"], "1d", "not a date")
        refused(["2024-01-01T24:00"], "1h", "not a date")
    }

    @Test(arguments: ["", "d", "0d", "-1d", "1x", "1.5d", "1e3s", "99999999999d", "１d", "d1", "7 d", "+7d"])
    func badWindowWidthsAreRefused(text: String) {
        #expect(throws: EmbdiagError.self) { try WindowWidth(parsing: text) }
    }

    @Test func windowWidths() throws {
        #expect(try WindowWidth(parsing: "1d").seconds == 86_400)
        #expect(try WindowWidth(parsing: "12h").seconds == 43_200)
        #expect(try WindowWidth(parsing: "2w").seconds == 1_209_600)
        #expect(try WindowWidth(parsing: "90s").seconds == 90)
        #expect(try WindowWidth(parsing: "30M").seconds == 1800)
    }

    @Test func timestampsParseStrictly() {
        #expect(WindowTimestamp.parse("1970-01-01") == 0)
        #expect(WindowTimestamp.parse("1970-01-02T00:00:01Z") == 86_401)
        #expect(WindowTimestamp.parse("2000-02-29") != nil)
        #expect(WindowTimestamp.parse("1900-02-29") == nil)
        #expect(WindowTimestamp.parse("2024-01-01T00:00:00.250Z") == WindowTimestamp.parse("2024-01-01")! + 0.25)
        #expect(WindowTimestamp.parse("2024-01-01T01:00+0100") == WindowTimestamp.parse("2024-01-01"))
        for bad in ["2024-1-01", "2024-01-01T", "2024-01-01T10", "2024-01-01Z", "2024-01-01T10:00Zx", "20240101", "2024-00-10", "2024-01-32", "2024-01-01T10:60"] {
            #expect(WindowTimestamp.parse(bad) == nil, "\(bad)")
        }
        #expect(WindowTimestamp.format(WindowTimestamp.parse("2023-12-28")!, dateOnly: true) == "2023-12-28")
        #expect(WindowTimestamp.format(-86_400, dateOnly: true) == "1969-12-31")
    }

    // MARK: the tests per window

    /// A window's overall p-value, every test's statistic and p, and the location equal those of
    /// `ShiftAnalysis` on the same rows with the same σ: the windows flow reuses the shift tests.
    @Test func aWindowIsTheShiftTestWithTheReferencesBandwidth() throws {
        let ref = Self.sentences.selecting(rows: Array(stride(from: 0, to: 1800, by: 9)))
        let other = Self.sentences.selecting(rows: Array(stride(from: 4, to: 1800, by: 17)))
        let c = Self.configuration()
        let reference = try ShiftReference(reference: ref, configuration: c, bandChunks: 19)
        let windows = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "w", rows: other)], configuration: c)
        var direct = c
        direct.bandwidth = reference.bandwidth
        let analysis = try ShiftAnalysis(reference: ref, others: [other], configuration: direct)
        let w = try #require(windows.windows.first?.comparison)
        #expect(w.verdict?.pValue == analysis.comparisons[0].verdict?.pValue)
        #expect(w.verdict?.tests.map(\.statistic) == analysis.comparisons[0].verdict?.tests.map(\.statistic))
        #expect(w.location?.overRepresented == analysis.comparisons[0].location?.overRepresented)
        // The effect is MMD²_u: mean witness of the window's rows minus that of the reference's rows.
        let effect = try #require(windows.windows[0].effect)
        let mmd = try #require(w.mmd?.result.statistic)
        #expect(Tolerance.isClose(effect, mmd, relative: 1e-4, absolute: 1e-6), "effect \(effect) vs MMD² \(mmd)")
        #expect(windows.windows[0].pHolm == w.verdict?.pValue)
    }

    /// Every window draws from the same seed-derived stream: the same rows give the same p-values
    /// at any position, and a run is reproducible.
    @Test func windowsAreDeterministicWhateverTheirPosition() throws {
        let ref = Self.sentences.selecting(rows: Array(0..<300).map { $0 * 6 })
        let a = Self.sentences.selecting(rows: Array(0..<40).map { $0 * 6 + 1 })
        let b = Self.sentences.selecting(rows: Array(0..<50).map { $0 * 6 + 2 })
        let c = Self.configuration()
        let reference = try ShiftReference(reference: ref, configuration: c, bandChunks: 19)
        let first = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "a", rows: a), ShiftWindowInput(name: "b", rows: b)], configuration: c)
        let second = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "b", rows: b), ShiftWindowInput(name: "x", rows: a),
                                                                      ShiftWindowInput(name: "a", rows: a)], configuration: c)
        #expect(first.windows[0].pValue == second.windows[2].pValue)
        #expect(first.windows[0].pValue == second.windows[1].pValue)
        #expect(first.windows[1].pValue == second.windows[0].pValue)
        let (u, v) = (try #require(first.windows[1].band?.upper), try #require(second.windows[0].band?.upper))
        #expect(Tolerance.isClose(u, v, relative: 1e-5, absolute: 1e-7), "band upper \(u) vs \(v)")
    }

    /// A window too small to test is listed, with a note, and takes no share of α.
    @Test func tooSmallWindowsAreListedNotSkipped() throws {
        let ref = Self.sentences.selecting(rows: Array(0..<200).map { $0 * 9 })
        let c = Self.configuration(permutations: 99)
        let reference = try ShiftReference(reference: ref, configuration: c, bandChunks: 19)
        let one = Self.sentences.selecting(rows: [5])
        let big = Self.sentences.selecting(rows: Array(0..<40).map { $0 * 9 + 3 })
        let w = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "one", rows: one), ShiftWindowInput(name: "big", rows: big)], configuration: c)
        #expect(w.windows[0].tooSmall && w.windows[0].pValue == nil && w.windows[0].pHolm == nil)
        #expect(w.windows[1].pHolm == w.windows[1].pValue)
        let report = w.report()
        #expect(report.notes.contains { $0.contains("one (1 row)") && $0.contains("not tested") })
        #expect(report.metrics.first { $0.key == "windows_too_small" }?.value == .int(1))
        let table = try #require(report.tables.first { $0.name == "windows" })
        #expect(table.rows[0][4] == .string("too small"))
    }

    /// Too few relabellings for the number of windows: no Holm-adjusted p can reach α, so the
    /// count of shifted windows is null (a gate windows_shifted<=0 must not pass) and the verdict
    /// says how many permutations it takes — even for windows that plainly differ.
    @Test func windowsThatCannotReachAlphaAreNotCountedAsUnshifted() throws {
        let ref = Self.sentences.selecting(rows: Array(0..<200).map { $0 * 9 })
        var c = Self.configuration(permutations: 39, tests: [.mmd, .energy])
        let reference = try ShiftReference(reference: ref, configuration: c, bandChunks: 19)
        // Rows of the reference's far end: a window per block of 40 rows.
        let inputs = (0..<4).map { w in ShiftWindowInput(name: "w\(w)", rows: Self.sentences.selecting(rows: Array((1700 + 25 * w)..<(1725 + 25 * w)))) }
        let w = try ShiftWindows(reference: reference, windows: inputs, configuration: c)
        // Floor 1/40 = 0.025 < α: each window alone could reject, but 4 × 0.025 ≥ 0.05 under Holm.
        #expect(w.smallestPossibleWindowPValue == 1.0 / 40 && !w.holmCanReject && w.benjaminiHochbergCanReject)
        let report = w.report()
        #expect(report.metric("windows_shifted") == .null)
        #expect(report.metric("windows_shifted_bh")?.number != nil)
        let answer = report.verdict?.answer ?? ""
        #expect(answer.contains("Cannot tell which of the 4 windows") && answer.contains("--permutations to at least 80"), "\(answer)")
        #expect(try report.evaluate([Requirement(parsing: "windows_shifted<=0")]).map(\.passed) == [false])
        c.permutations = 199
        let enough = try ShiftWindows(reference: ShiftReference(reference: ref, configuration: c, bandChunks: 19), windows: inputs, configuration: c)
        #expect(enough.holmCanReject && enough.report().metric("windows_shifted")?.number != nil)
    }

    /// Each band score is MMD²_u of its chunk against the rest of the sample (chunk left out),
    /// against a brute-force Float64 computation from the definition (Gretton et al. 2012, eq. 3).
    @Test func bandScoresAreLeaveChunkOutMMD() throws {
        let rows = Self.sentences.selecting(rows: Array(0..<90).map { $0 * 20 })
        let z = Matrix.normalizedRows(rows.matrix)
        let sigma = 0.9
        let band = ReferenceVariationBand.compute(referenceUnit: z, bandwidth: sigma, chunkSize: 20, chunks: 7, seed: 5)
        let chunks = ReferenceVariationBand.chunks(sampleRows: 90, chunkSize: 20, count: 7, seed: 5)
        #expect(chunks.count == 7 && chunks.allSatisfy { Set($0).count == 20 })
        // Four disjoint chunks per shuffle.
        #expect(Set(chunks[0]).isDisjoint(with: chunks[1]) && Set(chunks[2]).isDisjoint(with: chunks[3]))
        func k(_ i: Int, _ j: Int) -> Double {
            var dot = 0.0
            for t in 0..<z.cols { dot += Double(z[i, t]) * Double(z[j, t]) }
            return exp(-(2 - 2 * dot) / (2 * sigma * sigma))
        }
        for (c, chunk) in chunks.enumerated() {
            let inChunk = Set(chunk), rest = (0..<90).filter { !inChunk.contains($0) }
            let m = Double(chunk.count), n = Double(rest.count)
            var xx = 0.0, yy = 0.0, xy = 0.0
            for i in chunk { for j in chunk where i != j { xx += k(i, j) } }
            for i in rest { for j in rest where i != j { yy += k(i, j) } }
            for i in chunk { for j in rest { xy += k(i, j) } }
            let expected = xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)
            #expect(abs(band.scores[c] - expected) <= 1e-5 * max(1, abs(expected)) + 1e-6, "chunk \(c): \(band.scores[c]) vs \(expected)")
        }
        #expect(band.upperRank == 7 && band.upper == band.scores.max())
        #expect(abs(band.falseAlarmRate - 1.0 / 8) < 1e-12)
        let many = ReferenceVariationBand(chunkSize: 1, scores: (0..<99).map(Double.init))
        #expect(many.upperRank == 99 && abs(many.falseAlarmRate - 0.01) < 1e-12)
        let more = ReferenceVariationBand(chunkSize: 1, scores: (0..<199).map(Double.init))
        #expect(more.upperRank == 198 && abs(more.falseAlarmRate - 0.01) < 1e-12)
    }

    @Test func bandSizesOnAGeometricGridWhenWindowsVaryMuch() {
        #expect(ShiftReference.bandSize(forRows: 100, distinctSizes: 3) == 100)
        let g = ShiftReference.bandSize(forRows: 100, distinctSizes: 40)
        #expect(g <= 100 && g >= 84)
    }

    // MARK: level under H₀

    /// Windows drawn like the reference (disjoint random rows of one pool of the bundled
    /// sentences): per-window rejection near α, p-values uniform, Holm's family-wise rate and the
    /// band's false alarms at most their nominal rates (up to binomial noise). The 200-run study
    /// is `benchmarks/bench_shift_windows_level.py` (Guides/Shift.md).
    @Test func windowsHoldTheirLevelUnderTheNull() throws {
        let runs = 30, windowsPerRun = 4, windowRows = 25, referenceRows = 120
        let c = Self.configuration(permutations: 99, tests: [.mmd, .energy, .classifier, .depth])
        var pValues: [Double] = [], mmdPValues: [Double] = [], familyRejections = 0, beyondBand = 0, windowsWithBand = 0
        for run in 0..<runs {
            var rng = SeededGenerator(seed: 9_000 + UInt64(run))
            let rows = rng.sampleIndices(Self.sentences.count, count: referenceRows + windowsPerRun * windowRows).shuffled(using: &rng)
            let ref = Self.sentences.selecting(rows: Array(rows[0..<referenceRows]))
            var cr = c
            cr.seed = UInt64(run)
            let reference = try ShiftReference(reference: ref, configuration: cr, bandChunks: 39)
            let windows = (0..<windowsPerRun).map { w in
                ShiftWindowInput(name: "w\(w)", rows: Self.sentences.selecting(rows: Array(rows[(referenceRows + w * windowRows)..<(referenceRows + (w + 1) * windowRows)])))
            }
            let result = try ShiftWindows(reference: reference, windows: windows, configuration: cr)
            pValues += result.windows.compactMap(\.pValue)
            mmdPValues += result.windows.compactMap { $0.comparison?.mmd?.result.pValue }
            if result.shiftedCount > 0 { familyRejections += 1 }
            for w in result.windows { if let e = w.effectExcess { windowsWithBand += 1; if e > 0 { beyondBand += 1 } } }
        }
        #expect(pValues.count == runs * windowsPerRun)
        let rate = Calibration.rejectionRate(pValues, alpha: 0.05)
        // 120 windows: binomial sd of a 5 % rate ≈ 2 %.
        #expect(rate <= 0.10, "per-window rejection \(rate)")
        let family = Double(familyRejections) / Double(runs)
        // 30 runs: sd of a 5 % rate ≈ 4 %.
        #expect(family <= 0.2, "family-wise (Holm) rejection \(family) over \(runs) runs")
        #expect(windowsWithBand == pValues.count)
        let falseAlarm = Double(beyondBand) / Double(windowsWithBand)
        // Nominal 1/40 = 2.5 % with R = 39 (sd ≈ 1.4 % over 120 windows).
        #expect(falseAlarm <= 0.08, "band false alarms \(falseAlarm)")
        // Uniformity of the MMD test with σ fixed from the reference (the overall p-value is
        // conservative by design: the classifier's weighted Bonferroni share piles p = 1 up).
        let (uniform, counts) = Calibration.uniformity(mmdPValues)
        #expect(uniform > 0.001, "MMD p-values not uniform: \(counts)")
        #expect(Calibration.rejectionRate(mmdPValues, alpha: 0.05) <= 0.10)
    }

    // MARK: saved reference

    static func savedReference() throws -> (ShiftReference, Data) {
        let ref = Self.sentences.selecting(rows: Array(0..<300).map { $0 * 6 })
        var labelled = ref
        labelled.labels = (0..<300).map { "row \($0)" }
        var reference = try ShiftReference(reference: labelled, configuration: Self.configuration(permutations: 99), bandChunks: 19, sampleSize: 250)
        _ = reference.band(chunkSize: 40)
        return (reference, try PartialStateFile.encode(ShiftReferenceState.state(reference)))
    }

    /// A saved reference gives the same windows as the reference it was saved from.
    @Test func savedReferenceRoundTrips() throws {
        let (reference, data) = try Self.savedReference()
        let restored = try ShiftReferenceState.reference(try PartialStateFile.decode(data, path: "ref.state"), path: "ref.state")
        #expect(restored.sample.count == 250 && restored.totalRows == 300)
        #expect(restored.bandwidth == reference.bandwidth && restored.bands == reference.bands)
        #expect(restored.sample.labels == reference.sample.labels)
        #expect((0..<250).map(restored.sample.sourceRow) == (0..<250).map(reference.sample.sourceRow))
        let window = Self.sentences.selecting(rows: Array(0..<40).map { $0 * 6 + 1 })
        let c = Self.configuration(permutations: 99)
        let a = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "w", rows: window)], configuration: c)
        let b = try ShiftWindows(reference: restored, windows: [ShiftWindowInput(name: "w", rows: window)], configuration: c)
        #expect(a.windows[0].pValue == b.windows[0].pValue)
        // Float32 GEMMs of OpenBLAS may round differently from call to call (buffer alignment,
        // threads): the effects agree to float noise, not bit for bit.
        let (ea, eb) = (try #require(a.windows[0].effect), try #require(b.windows[0].effect))
        #expect(Tolerance.isClose(ea, eb, relative: 1e-5, absolute: 1e-7), "\(ea) vs \(eb)")
        let (xa, xb) = (try #require(a.windows[0].effectExcess), try #require(b.windows[0].effectExcess))
        #expect(Tolerance.isClose(xa, xb, relative: 1e-5, absolute: 1e-7), "\(xa) vs \(xb)")
    }

    // MARK: regions per window

    /// Sections of the 1,800 bundled sentences (debian-provenance.tsv), in row order.
    static let sections: [String] = {
        let text = try! String(contentsOf: CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-provenance.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[2]) }
    }()

    /// A window with extra "fonts" rows: its clusters table says the fonts cluster grew (the cluster
    /// whose reference rows are mostly fonts is the first changed one); a window drawn like the
    /// reference changes no cluster. The regions of a window are those of `ReferenceRegions.compare`
    /// on its rows.
    @Test func windowsNameTheClusterThatGrew() throws {
        let ref = Self.sentences.selecting(rows: Array(stride(from: 0, to: 1800, by: 3)))
        let like = Self.sentences.selecting(rows: Array(stride(from: 1, to: 1800, by: 6)))
        let fonts = (0..<1800).filter { $0 % 3 == 2 && Self.sections[$0] == "fonts" }
        let grown = Self.sentences.selecting(rows: Array(stride(from: 4, to: 1800, by: 9)) + Array(fonts.prefix(90)))
        let c = Self.configuration(permutations: 99)
        let reference = try ShiftReference(reference: ref, configuration: c, bandChunks: 19)
        let regions = try #require(reference.regions)
        #expect(regions.referenceRows == 600)
        let w = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "like", rows: like), ShiftWindowInput(name: "fonts", rows: grown)],
                                 configuration: c)
        let likeRegions = try #require(w.windows[0].comparison?.regions)
        let grownRegions = try #require(w.windows[1].comparison?.regions)
        #expect(likeRegions.changedCount == 0, "\(likeRegions.clusters.map { ($0.cluster, $0.adjustedPValue) })")
        let firstChanged = grownRegions.clusters.first { $0.changed }
        let top = try #require(firstChanged)
        #expect(top.direction == .grew)
        let members = regions.referenceAssignment.indices.filter { regions.referenceAssignment[$0] == top.cluster }
        let fontShare = Double(members.filter { Self.sections[ref.sourceRow($0)] == "fonts" }.count) / Double(members.count)
        #expect(fontShare > 0.5, "the grown cluster C\(top.cluster + 1) is \(fontShare) fonts")
        // The same comparison as the library's, on the rows the window tested.
        let quality = try #require(w.windows[1].comparison?.quality)
        #expect(w.windows[1].rows.count == grown.count, "the window's rows were tested as given (no copies of reference rows)")
        let direct = regions.compare(Matrix.normalizedRows(grown.matrix), labels: nil, insideReference: quality.otherWithinReferenceBall, alpha: c.alpha)
        #expect(direct.assignment == grownRegions.assignment && direct.clusters == grownRegions.clusters)
        // The report: columns, metrics, the largest shift's clusters table, the verdict in words.
        let report = w.report()
        let table = try #require(report.tables.first { $0.name == "windows" })
        let column = try #require(table.columns.firstIndex(of: "clusters_changed"))
        #expect(table.rows[0][column] == .int(0) && table.rows[1][column] == .int(grownRegions.changedCount))
        let change = try #require(table.columns.firstIndex(of: "largest_cluster_change"))
        #expect(table.rows[1][change] == .string(ShiftWindows.largestChange(grownRegions)))
        #expect(report.metrics.first { $0.key == "windows_clusters_changed" }?.value == .int(1))
        #expect(report.tables.contains { $0.name == "largest_shift_clusters" })
        #expect(report.verdict?.answer.contains("grew: C\(top.cluster + 1)") == true, "\(report.verdict?.answer ?? "")")
    }

    /// The saved reference keeps its regions: restored centres, assignment, counts, names and
    /// exemplars are the saved ones, and a window's clusters are the same from either.
    @Test func savedReferenceKeepsItsRegions() throws {
        let (reference, data) = try Self.savedReference()
        let restored = try ShiftReferenceState.reference(try PartialStateFile.decode(data, path: "ref.state"), path: "ref.state")
        let (a, b) = (try #require(reference.regions), try #require(restored.regions))
        #expect(a.centroids.values == b.centroids.values && a.referenceAssignment == b.referenceAssignment)
        #expect(a.referenceCounts == b.referenceCounts && a.names == b.names && a.exemplars == b.exemplars)
        #expect(a.requestedCount == b.requestedCount && a.countFromRule == b.countFromRule && a.fitRows == b.fitRows)
        #expect(a.neighbors == b.neighbors && a.referenceNewCount == b.referenceNewCount)
        let window = Self.sentences.selecting(rows: Array(0..<60).map { $0 * 6 + 1 })
        let c = Self.configuration(permutations: 99)
        let x = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "w", rows: window)], configuration: c)
        let y = try ShiftWindows(reference: restored, windows: [ShiftWindowInput(name: "w", rows: window)], configuration: c)
        #expect(x.windows[0].comparison?.regions?.clusters == y.windows[0].comparison?.regions?.clusters)
        // Saved without clusters (an earlier embdiag): windows without regions, and a note says so.
        var state = try PartialStateFile.decode(data, path: nil)
        for name in ShiftReferenceState.regionArrays { state.arrays[name] = nil }
        let old = try ShiftReferenceState.reference(state, path: "old.state")
        #expect(old.regions == nil)
        let z = try ShiftWindows(reference: old, windows: [ShiftWindowInput(name: "w", rows: window)], configuration: c, referenceFromState: "old.state")
        #expect(z.windows[0].comparison?.regions == nil)
        #expect(z.report().notes.contains { $0.contains("holds no clusters") })
    }
}
