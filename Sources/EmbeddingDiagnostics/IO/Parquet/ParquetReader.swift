import Foundation

/// Parquet files (Hugging Face datasets, Spark, LanceDB and DuckDB exports): a vector column of
/// list<float|double|half> (list, large_list or fixed_size_list, which Parquet stores alike) or a
/// binary column of little-endian float32 blobs, and an optional label column (strings or
/// integers). Several files (a directory, or a glob such as `dir/*.parquet`) are read in byte order
/// of their names, row group by row group, straight into one Float32 matrix: memory is the matrix
/// plus one page. Row numbers in messages are 0-based over all files.
public enum ParquetReader {
    /// - Complexity: O(bytes of the files + rows × dim).
    public static func read(files: [String], displayPath: String, column: String?, labelColumn: String?, dropNulls: Bool) throws -> Embeddings {
        guard !files.isEmpty else { throw EmbdiagError.malformed(displayPath, "no Parquet files") }
        var opened: [(MappedFile, ParquetMetadata)] = []
        for f in files {
            let file = try MappedFile(f)
            opened.append((file, try ParquetMetadata(file: file)))
        }
        // The vector column, chosen in the first file and required by name in the others.
        let (firstFile, firstMeta) = opened[0]
        let vectorName: String
        if let column {
            guard let leaf = firstMeta.leaves.first(where: { $0.topName == column || $0.dottedPath == column }) else {
                throw EmbdiagError.malformed(firstFile.path, "no column '\(column)'; columns: \(describe(firstMeta.leaves))")
            }
            guard leaf.isVectorList || leaf.isVectorBlob else {
                throw EmbdiagError.malformed(firstFile.path, "column '\(column)' is \(leaf.typeDescription), not a list<float|double|half> or binary float32 column")
            }
            vectorName = column
        } else {
            let candidates = firstMeta.leaves.filter { $0.isVectorList || $0.isVectorBlob }
            guard !candidates.isEmpty else {
                throw EmbdiagError.malformed(firstFile.path, "no vector column (list<float|double|half> or binary); columns: \(describe(firstMeta.leaves))")
            }
            guard candidates.count == 1 else {
                throw EmbdiagError.malformed(firstFile.path, "\(candidates.count) vector columns (\(candidates.map(\.topName).joined(separator: ", "))); pick one with \(Setting.column)")
            }
            vectorName = candidates[0].topName
        }
        let totalRows = opened.reduce(0) { $0 + $1.1.numRows }
        var assembler = VectorAssembler(totalRows: totalRows, dropNulls: dropNulls)
        var labels: [String] = []
        var dtype = ""
        var rowBase = 0
        for (file, meta) in opened {
            let path = file.path
            guard let leaf = meta.leaves.first(where: { $0.topName == vectorName || $0.dottedPath == vectorName }),
                  leaf.isVectorList || leaf.isVectorBlob else {
                throw EmbdiagError.malformed(path, "no vector column '\(vectorName)' (it is in \(firstFile.path)); columns: \(describe(meta.leaves))")
            }
            dtype = leaf.isVectorBlob ? "float32" : leaf.isFloat16 ? "float16" : leaf.physical == .double ? "float64" : "float32"
            var labelLeaf: ParquetMetadata.Leaf? = nil
            if let labelColumn {
                guard let l = meta.leaves.first(where: { $0.topName == labelColumn || $0.dottedPath == labelColumn }) else {
                    throw EmbdiagError.malformed(path, "no label column '\(labelColumn)'; columns: \(describe(meta.leaves))")
                }
                // Decimal, time, interval and uuid values are not their stored integers or bytes
                // as text (pyarrow prints decimal(5,2) 220 as '2.20'): refused by name.
                guard l.maxRepetition == 0, l.otherLogicalType == nil, [.byteArray, .int32, .int64, .fixedLenByteArray].contains(l.physical) else {
                    throw EmbdiagError.malformed(path, "label column '\(labelColumn)' is \(l.typeDescription); expected strings or integers")
                }
                labelLeaf = l
            }
            for (g, group) in meta.rowGroups.enumerated() {
                assembler.context = (path, g, rowBase)
                guard let chunk = group.chunks.first(where: { $0.leafPath == leaf.path }) else {
                    throw EmbdiagError.malformed(path, "row group \(g) has no chunk for column '\(leaf.dottedPath)'")
                }
                let before = assembler.rowsDone
                var reader = ParquetColumnChunkReader(file: file, leaf: leaf, chunk: chunk)
                try reader.forEachPage { page, values in try assembler.consume(page, values: values, leaf: leaf) }
                try assembler.finishChunk()
                release(file, chunk)
                guard assembler.rowsDone - before == group.numRows else {
                    throw EmbdiagError.malformed(path, "row group \(g) declares \(group.numRows) rows, its column '\(leaf.dottedPath)' holds \(assembler.rowsDone - before)")
                }
                if let labelLeaf {
                    guard let lchunk = group.chunks.first(where: { $0.leafPath == labelLeaf.path }) else {
                        throw EmbdiagError.malformed(path, "row group \(g) has no chunk for column '\(labelLeaf.dottedPath)'")
                    }
                    let start = labels.count
                    try readLabels(file: file, leaf: labelLeaf, chunk: lchunk, rowBase: rowBase, into: &labels)
                    guard labels.count - start == group.numRows else {
                        throw EmbdiagError.malformed(path, "row group \(g) declares \(group.numRows) rows, its label column holds \(labels.count - start)")
                    }
                }
                rowBase += group.numRows
            }
        }
        let (matrix, nullRows) = try assembler.finish(path: displayPath)
        var e = Embeddings(matrix: matrix, labels: labelColumn == nil ? nil : labels,
                           source: Source(path: displayPath, format: .parquet, dtype: dtype, rows: matrix.rows, dim: matrix.cols, key: vectorName))
        e.nullRows = nullRows
        return e
    }

    /// Drops the pages of a column chunk already read from this process' resident memory (they stay
    /// in the page cache; a read-only private mapping refaults from the file if touched again).
    static func release(_ file: MappedFile, _ chunk: ParquetMetadata.Chunk) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (chunk.start + page - 1) / page * page
        let end = (chunk.start + chunk.size) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(mutating: file.bytes + start), end - start, MADV_DONTNEED) }
    }

    static func describe(_ leaves: [ParquetMetadata.Leaf]) -> String {
        leaves.prefix(12).map { "\($0.topName) (\($0.typeDescription))" }.joined(separator: ", ") + (leaves.count > 12 ? ", …" : "")
    }

    static func readLabels(file: MappedFile, leaf: ParquetMetadata.Leaf, chunk: ParquetMetadata.Chunk, rowBase: Int, into labels: inout [String]) throws {
        var reader = ParquetColumnChunkReader(file: file, leaf: leaf, chunk: chunk)
        try reader.forEachPage { page, values in
            if page.present != page.count {
                let k = (0..<page.count).first { Int(page.def[$0]) < leaf.maxDefinition } ?? 0
                throw EmbdiagError.malformed(file.path, "row \(rowBase + labels.count + k): the label column '\(leaf.dottedPath)' is null")
            }
            switch leaf.physical {
            case .int32, .int64:
                if let temporal = leaf.temporal {
                    try values.integers(page) { labels.append(temporal.iso8601(Int64($0))) }
                } else if leaf.isUnsigned {
                    // pyarrow reads uint32 4294967295 (stored as the int32 -1) and uint64 2^63 unsigned.
                    let wide = leaf.physical == .int64
                    try values.integers(page) { labels.append(wide ? String(UInt64(bitPattern: $0)) : String(UInt32(truncatingIfNeeded: $0))) }
                } else {
                    try values.integers(page) { labels.append(String($0)) }
                }
            default:
                try values.byteArrays(page) {
                    labels.append(try StrictUTF8.text($0, path: file.path, what: "row \(rowBase + labels.count): the label column '\(leaf.dottedPath)'"))
                }
            }
        }
    }
}

/// Turns pages of a vector column (levels + values) into rows of one Float32 matrix, checking
/// that every row has the dimension of the first non-null row.
struct VectorAssembler {
    let totalRows: Int
    let dropNulls: Bool
    var matrix: Matrix?
    var out: UnsafeMutablePointer<Float>?
    var dim = 0
    /// Rows closed so far (over all files).
    var rowsDone = 0
    var nullRows: [Int] = []
    /// Values of the open row before the dimension is known (the first non-null row only).
    var staging: [Float] = []
    var rowOpen = false
    var rowIsNull = false
    var rowLength = 0
    var scratch: [Float] = []
    /// (file, row group, first row of the file) for messages.
    var context: (path: String, group: Int, rowBase: Int) = ("", 0, 0)

    init(totalRows: Int, dropNulls: Bool) {
        self.totalRows = totalRows
        self.dropNulls = dropNulls
    }

    func bad(_ row: Int, _ m: String) -> EmbdiagError {
        EmbdiagError.malformed(context.path, "row \(row) (row group \(context.group)): \(m)")
    }

    mutating func openRow() throws {
        if rowOpen { try closeRow() }
        guard rowsDone < totalRows else { throw EmbdiagError.malformed(context.path, "more rows than the footers declare (\(totalRows))") }
        rowOpen = true; rowIsNull = false; rowLength = 0
    }

    mutating func closeRow() throws {
        guard rowOpen else { return }
        rowOpen = false
        let r = rowsDone
        if rowIsNull {
            guard dropNulls else {
                throw EmbdiagError.invalid(context.path, "row \(r) (row group \(context.group)): the vector is null (use \(Setting.onInvalid) drop to skip null rows)")
            }
            nullRows.append(r)
            if let out { (out + r * dim).initialize(repeating: .nan, count: dim) }
            rowsDone += 1
            return
        }
        if matrix == nil {
            guard rowLength > 0 else { throw bad(r, "the vector has 0 values") }
            dim = rowLength
            let bytes = totalRows.multipliedReportingOverflow(by: dim)
            guard !bytes.overflow, bytes.partialValue <= Int(ProcessInfo.processInfo.physicalMemory / 4) else {
                throw EmbdiagError.malformed(context.path, "\(totalRows) rows × \(dim) values declared: more float32 than this machine's memory")
            }
            let m = Matrix(rows: totalRows, cols: dim)
            matrix = m
            out = m.mutablePointer
            for n in nullRows { (out! + n * dim).initialize(repeating: .nan, count: dim) }
            staging.withUnsafeBufferPointer { s in (out! + r * dim).update(from: s.baseAddress!, count: dim) }
            staging = []
        } else if rowLength != dim {
            throw bad(r, "the vector has \(rowLength) values, the first row has \(dim) (ragged rows)")
        }
        rowsDone += 1
    }

    /// Appends `n` values of the open row.
    mutating func append(_ src: UnsafePointer<Float>, _ n: Int) throws {
        if let out {
            guard rowLength + n <= dim else { throw bad(rowsDone, "the vector has at least \(rowLength + n) values, the first row has \(dim) (ragged rows)") }
            (out + rowsDone * dim + rowLength).update(from: src, count: n)
        } else {
            staging.append(contentsOf: UnsafeBufferPointer(start: src, count: n))
        }
        rowLength += n
    }

    mutating func consume(_ page: ParquetColumnChunkReader.Page, values: ParquetValues, leaf: ParquetMetadata.Leaf) throws {
        if leaf.isVectorBlob {
            var k = 0
            try values.byteArrays(page) { blob in
                // Null rows come before the value they precede.
                while k < page.count && Int(page.def[k]) < leaf.maxDefinition { try openRow(); rowIsNull = true; k += 1 }
                guard blob.count % 4 == 0 else { throw bad(rowsDone + (rowOpen ? 1 : 0), "binary vector of \(blob.count) bytes is not a whole number of float32") }
                try openRow()
                let n = blob.count / 4
                var row = [Float](repeating: 0, count: n)
                row.withUnsafeMutableBytes { if n > 0 { _ = memcpy($0.baseAddress!, blob.baseAddress!, blob.count) } }
                try row.withUnsafeBufferPointer { if n > 0 { try append($0.baseAddress!, n) } }
                k += 1
            }
            while k < page.count { try openRow(); rowIsNull = true; k += 1 }
            return
        }
        // list<…>: repetition level 0 starts a row; definition levels below the list's level are a
        // null row, equal to it an empty list, between it and the maximum a null element.
        var scratch: [Float] = []
        swap(&scratch, &self.scratch)
        defer { swap(&scratch, &self.scratch) }
        if scratch.count < max(1, page.present) { scratch = [Float](repeating: 0, count: max(1, page.present)) }
        try scratch.withUnsafeMutableBufferPointer { s in
            try values.floats(page, into: s.baseAddress!)
            let maxDef = UInt8(leaf.maxDefinition), listLevel = UInt8(leaf.listPresentLevel)
            let rep = page.rep, def = page.def
            var i = 0, v = 0
            let count = page.count
            while i < count {
                if rep[i] == 0 { try openRow() } else if !rowOpen { throw bad(rowsDone, "the column chunk starts inside a row") }
                let d = def[i]
                if d == maxDef {
                    var j = i + 1
                    while j < count && rep[j] != 0 && def[j] == maxDef { j += 1 }
                    try append(s.baseAddress! + v, j - i)
                    v += j - i
                    i = j
                    continue
                }
                if d < listLevel { rowIsNull = true } else if d > listLevel { throw bad(rowsDone, "null element in the vector") }
                i += 1
            }
        }
    }

    mutating func finishChunk() throws { try closeRow() }

    mutating func finish(path: String) throws -> (Matrix, [Int]) {
        guard rowsDone == totalRows else { throw EmbdiagError.malformed(path, "read \(rowsDone) rows, the footers declare \(totalRows)") }
        guard totalRows > 0 else { throw EmbdiagError.malformed(path, "0 rows: the Parquet file holds no data") }
        guard let matrix else { throw EmbdiagError.invalid(path, "every vector is null: no rows") }
        return (matrix, nullRows)
    }
}
