import Foundation

/// The JSON envelope of Guides/Architecture.md, keys in a stable order.
public enum JSONRenderer {
    public enum Tables: String, CaseIterable, Sendable {
        /// No tables at all.
        case none
        /// Tables that are not per-row (default).
        case summary
        /// Every table.
        case all
    }

    public static func render(_ report: Report, tables: Tables = .summary) -> String {
        var o = JSONObject()
        o["tool"] = .string("embdiag")
        o["version"] = .string(report.toolVersion)
        o["analyzer"] = .string(report.analyzer)
        o["title"] = .string(report.title)
        if let v = report.verdict {
            var vj = JSONObject()
            vj["question"] = .string(v.question)
            vj["answer"] = .string(v.answer)
            vj["deciding_metrics"] = .array(v.decidingMetrics.map { .string($0) })
            o["verdict"] = .object(vj)
        }
        o["inputs"] = .array(report.inputs.map { s in
            var i = JSONObject()
            i["path"] = .string(s.path)
            i["format"] = .string(s.format.rawValue)
            i["dtype"] = .string(s.dtype)
            i["rows"] = .int(s.rows)
            i["dim"] = .int(s.dim)
            i["sha256"] = s.sha256.map { .string($0) } ?? .null
            if let k = s.key { i["key"] = .string(k) }
            if let c = s.idColumn { i["id_column"] = .string(c) }
            return .object(i)
        })
        var p = JSONObject()
        for x in report.parameters { p[x.key] = JSONValue(x.value) }
        o["parameters"] = .object(p)
        var m = JSONObject()
        for x in report.metrics { m[x.key] = JSONValue(x.value) }
        o["metrics"] = .object(m)
        var t = JSONObject()
        for table in report.tables where tables == .all || (tables == .summary && !table.isPerRow) {
            var tj = JSONObject()
            tj["columns"] = .array(table.columns.map { .string($0) })
            tj["rows"] = .array(table.rows.map { .array($0.map(JSONValue.init)) })
            t[table.name] = .object(tj)
        }
        o["tables"] = .object(t)
        o["notes"] = .array(report.notes.map { .string($0) })
        o["elapsed_seconds"] = .double(report.elapsedSeconds)
        return JSONValue.object(o).serialized(indent: 0) + "\n"
    }
}

/// An ordered JSON object (keys keep insertion order, so documents are stable and diffable).
public struct JSONObject: Sendable, Equatable {
    public private(set) var entries: [(String, JSONValue)] = []
    public init() {}
    public subscript(key: String) -> JSONValue? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            if let i = entries.firstIndex(where: { $0.0 == key }) {
                if let v = newValue { entries[i].1 = v } else { entries.remove(at: i) }
            } else if let v = newValue {
                entries.append((key, v))
            }
        }
    }
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

public indirect enum JSONValue: Sendable, Equatable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object(JSONObject)

    public init(_ v: ReportValue) {
        switch v {
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        case .null: self = .null
        }
    }

    /// Compact for arrays of scalars, indented for objects.
    public func serialized(indent: Int) -> String {
        let pad = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            // JSON has no NaN/Infinity: emit null (documented in the guide).
            return d.isFinite ? "\(d)" : "null"
        case .string(let s): return JSONValue.quote(s)
        case .array(let a):
            if a.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                return "[" + a.map { $0.serialized(indent: 0) }.joined(separator: ", ") + "]"
            }
            if a.isEmpty { return "[]" }
            return "[\n" + a.map { pad + "  " + $0.serialized(indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "]"
        case .object(let o):
            if o.entries.isEmpty { return "{}" }
            return "{\n" + o.entries.map { pad + "  " + JSONValue.quote($0.0) + ": " + $0.1.serialized(indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
