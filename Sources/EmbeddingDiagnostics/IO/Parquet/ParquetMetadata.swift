import Foundation

/// The parts of a Parquet footer (`FileMetaData`, parquet.thrift) that the reader needs: the
/// schema flattened into leaf columns with their definition/repetition levels, and the row groups
/// with each column chunk's byte range and codec. Every offset and size is checked against the file.
struct ParquetMetadata {
    enum Physical: Int64 {
        case boolean = 0, int32, int64, int96, float, double, byteArray, fixedLenByteArray
        var name: String {
            ["boolean", "int32", "int64", "int96", "float", "double", "binary", "fixed_len_byte_array"][Int(rawValue)]
        }
    }

    struct Leaf {
        /// Names from the top-level field down to the leaf.
        var path: [String]
        var physical: Physical
        var typeLength: Int
        var maxDefinition: Int
        var maxRepetition: Int
        /// Definition level at which the repeated node (the list) is present, i.e. the row is not
        /// null (only for maxRepetition == 1): below it the row (or an ancestor) is null, equal to it
        /// the list is empty.
        var listPresentLevel: Int
        var isString: Bool
        var isFloat16: Bool
        /// DATE (days) or TIMESTAMP (in its unit) columns, written out as ISO 8601 labels.
        var temporal: ParquetTemporal? = nil
        /// UINT_32/UINT_64 (logical INTEGER with isSigned false, or the converted UINT_* types):
        /// the stored bits are an unsigned integer (4294967295 is stored as the int32 -1).
        var isUnsigned = false
        /// A logical type whose integers or bytes are not the value as text (DECIMAL, TIME,
        /// INTERVAL, UUID): "decimal(5,2)", "time", … — refused as a label column by name.
        var otherLogicalType: String? = nil
        var dottedPath: String { path.joined(separator: ".") }
        var topName: String { path[0] }

        /// list<float|double|half> (any list flavour) or a binary float32 blob.
        var isVectorList: Bool {
            maxRepetition == 1 && (physical == .float || physical == .double || (physical == .fixedLenByteArray && isFloat16))
        }
        var isVectorBlob: Bool {
            maxRepetition == 0 && otherLogicalType == nil
                && ((physical == .byteArray && !isString) || (physical == .fixedLenByteArray && !isFloat16 && typeLength % 4 == 0))
        }
        var typeDescription: String {
            let base = isFloat16 ? "half" : isString ? "string" : otherLogicalType ?? (isUnsigned ? "u" + (physical == .int64 ? "int64" : "int32") : physical.name)
            // One list<…> per repeated level: list<list<float>> is not a vector column.
            return String(repeating: "list<", count: maxRepetition) + base + String(repeating: ">", count: maxRepetition)
        }
    }

    struct Chunk {
        var leafPath: [String]
        var codec: Int64
        var numValues: Int
        var start: Int
        var size: Int
    }

    struct RowGroup {
        var numRows: Int
        var chunks: [Chunk]
    }

    var leaves: [Leaf]
    var rowGroups: [RowGroup]
    var numRows: Int

    /// Reads the footer of `file` (`PAR1` … footer, length, `PAR1`).
    init(file: MappedFile) throws {
        let path = file.path
        let size = file.size
        let magic = Array("PAR1".utf8)
        guard size >= 12 else { throw EmbdiagError.malformed(path, "truncated: \(size) bytes, a Parquet file has at least 12 (PAR1 … PAR1)") }
        let b = file.buffer
        guard Array(b[0..<4]) == magic else { throw EmbdiagError.malformed(path, "not a Parquet file (no PAR1 magic at the start)") }
        guard Array(b[(size - 4)..<size]) == magic else {
            throw EmbdiagError.malformed(path, "no PAR1 magic at the end: truncated or not a Parquet file")
        }
        let footerLength = Int(UInt32(littleEndian: (file.bytes + size - 8).loadUnaligned(as: UInt32.self)))
        guard footerLength > 0, footerLength <= size - 12 else {
            throw EmbdiagError.malformed(path, "footer length \(footerLength) does not fit in the file (\(size) bytes)")
        }
        let footerStart = size - 8 - footerLength
        var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: b[footerStart..<(size - 8)]))
        let meta: [Int16: ThriftValue]
        do { meta = try reader.readStruct() } catch let f as ThriftFailure {
            throw EmbdiagError.malformed(path, "footer (FileMetaData) is not valid Thrift: \(f.message)")
        }
        func bad(_ m: String) -> EmbdiagError { EmbdiagError.malformed(path, "footer: \(m)") }

        // Schema: a depth-first list; element 0 is the root, num_children says how many follow.
        guard let schema = meta[2]?.list, !schema.isEmpty else { throw bad("no schema") }
        var leaves: [Leaf] = []
        var index = 1
        func walk(_ parentPath: [String], definition: Int, repetition: Int, listLevel: Int?, isList: Bool, depth: Int) throws {
            guard depth < 32 else { throw bad("schema nested deeper than 32 levels") }
            guard index < schema.count, let f = schema[index].fields else { throw bad("schema ends early (element \(index))") }
            index += 1
            let name = reader.string(f[4]) ?? "?"
            let rep = f[3]?.int ?? 0
            guard (0...2).contains(rep) else { throw bad("field '\(name)' has repetition type \(rep)") }
            let def = definition + (rep == 0 ? 0 : 1)
            let reps = repetition + (rep == 2 ? 1 : 0)
            var list = listLevel
            if rep == 2 && list == nil { list = definition }
            let p = parentPath + [name]
            let children = Int(f[5]?.int ?? 0)
            if children > 0 || f[1] == nil {
                guard children >= 0, children <= schema.count - index else { throw bad("field '\(name)' declares \(children) children") }
                for _ in 0..<children { try walk(p, definition: def, repetition: reps, listLevel: list, isList: false, depth: depth + 1) }
                return
            }
            guard let t = f[1]?.int, let physical = Physical(rawValue: t) else { throw bad("field '\(name)' has physical type \(f[1]?.int ?? -1)") }
            let logical = f[10]?.fields
            let converted = f[6]?.int
            let typeLength = Int(f[2]?.int ?? 0)
            guard typeLength >= 0, typeLength <= 1 << 20 else { throw bad("field '\(name)' has type length \(typeLength)") }
            var leaf = Leaf(path: p, physical: physical, typeLength: typeLength, maxDefinition: def, maxRepetition: reps,
                            listPresentLevel: list ?? 0, isString: logical?[1] != nil || converted == 0 || logical?[12] != nil,
                            isFloat16: logical?[15] != nil && physical == .fixedLenByteArray && typeLength == 2,
                            temporal: ParquetTemporal(logical: logical, converted: converted, physical: physical))
            // Logical INTEGER (field 10: bitWidth, isSigned) or converted UINT_8…UINT_64 (11…14).
            leaf.isUnsigned = (physical == .int32 || physical == .int64)
                && (logical?[10]?.fields?[2]?.bool == false || (logical == nil && (11...14).contains(converted ?? -1)))
            // DECIMAL (logical 5 {scale 1, precision 2}; converted 5 with the element's scale 7 and
            // precision 8), TIME (logical 7; converted 7, 8), INTERVAL (converted 21), UUID (logical 14).
            if logical?[5] != nil || converted == 5 {
                let d = logical?[5]?.fields
                let precision = d?[2]?.int ?? f[8]?.int, scale = d?[1]?.int ?? f[7]?.int
                leaf.otherLogicalType = "decimal" + (precision.map { "(\($0),\(scale ?? 0))" } ?? "")
            } else if logical?[7] != nil || converted == 7 || converted == 8 {
                leaf.otherLogicalType = "time"
            } else if converted == 21 {
                leaf.otherLogicalType = "interval"
            } else if logical?[14] != nil {
                leaf.otherLogicalType = "uuid"
            }
            leaves.append(leaf)
        }
        let rootChildren = Int(schema[0].fields?[5]?.int ?? 0)
        guard rootChildren >= 0, rootChildren <= schema.count - 1 else { throw bad("root declares \(rootChildren) children") }
        for _ in 0..<rootChildren { try walk([], definition: 0, repetition: 0, listLevel: nil, isList: false, depth: 0) }
        self.leaves = leaves

        let numRows = meta[3]?.int ?? -1
        guard numRows >= 0, numRows <= Int64(Int32.max) * 1024 else { throw bad("num_rows \(numRows)") }
        self.numRows = Int(numRows)
        var groups: [RowGroup] = []
        for (g, value) in (meta[4]?.list ?? []).enumerated() {
            guard let rg = value.fields, let columns = rg[1]?.list, let n = rg[3]?.int, n >= 0, n <= numRows else {
                throw bad("row group \(g) lacks columns or a valid num_rows")
            }
            // An empty row group (pyarrow writes one for a table of 0 rows) has no pages to read;
            // its chunk offsets may be 0.
            if n == 0 { continue }
            var chunks: [Chunk] = []
            for column in columns {
                guard let cc = column.fields else { throw bad("row group \(g): a column chunk is not a struct") }
                if cc[1] != nil { throw bad("row group \(g): a column chunk lives in another file (file_path); not supported") }
                guard let md = cc[3]?.fields, let names = md[3]?.list, let codec = md[4]?.int, let numValues = md[5]?.int,
                      let compressed = md[7]?.int, let dataOffset = md[9]?.int else {
                    throw bad("row group \(g): a column chunk lacks its metadata")
                }
                var start = dataOffset
                if let dict = md[11]?.int, dict > 0, dict < dataOffset { start = dict }
                guard start >= 4, compressed >= 0, start <= Int64(footerStart), compressed <= Int64(footerStart) - start else {
                    throw bad("row group \(g): column chunk bytes [\(start), +\(compressed)) lie outside the data section (4…\(footerStart))")
                }
                guard numValues >= 0, numValues <= Int64(Int32.max) * 1024 else { throw bad("row group \(g): num_values \(numValues)") }
                chunks.append(Chunk(leafPath: names.map { reader.string($0) ?? "?" }, codec: codec, numValues: Int(numValues),
                                    start: Int(start), size: Int(compressed)))
            }
            groups.append(RowGroup(numRows: Int(n), chunks: chunks))
        }
        let total = groups.reduce(0) { $0 + $1.numRows }
        guard total == self.numRows else { throw bad("num_rows \(numRows) but the row groups hold \(total)") }
        rowGroups = groups
    }
}
