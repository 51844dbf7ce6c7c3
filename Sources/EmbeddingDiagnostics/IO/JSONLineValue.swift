import Foundation

/// A JSON value parsed from untrusted bytes (one JSONL line): nesting depth, string and number
/// lengths are bounded, numbers follow the JSON grammar (no NaN, Infinity or hex).
indirect enum JSONLineValue: Sendable {
    case null
    case bool(Bool)
    /// The value (strtod) and where its token lies in the parsed bytes: labels keep the token as
    /// written (`1234567890123456789` is not rounded to a float64).
    case number(Double, text: Range<Int>)
    case string(String)
    case array([JSONLineValue])
    case object([(key: String, value: JSONLineValue)])

    static let maximumDepth = 64

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    subscript(key: String) -> JSONLineValue? {
        if case .object(let members) = self { return members.first { $0.key == key }?.value }
        return nil
    }

    /// Parses exactly one value (surrounding whitespace allowed); the error says where and why.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONLineValue {
        var p = JSONParser(bytes: bytes)
        p.skipWhitespace()
        let v = try p.value(depth: 0)
        p.skipWhitespace()
        guard p.i == bytes.count else { throw JSONParser.Failure(offset: p.i, message: "unexpected text after the JSON value") }
        return v
    }
}

struct JSONParser {
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    let bytes: UnsafeRawBufferPointer
    var i = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    func fail(_ message: String) -> Failure { Failure(offset: i, message: message) }

    mutating func value(depth: Int) throws -> JSONLineValue {
        guard depth < JSONLineValue.maximumDepth else { throw fail("nested deeper than \(JSONLineValue.maximumDepth) levels") }
        guard i < bytes.count else { throw fail("unexpected end of line") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(key: String, value: JSONLineValue)] = []
            skipWhitespace()
            if i < bytes.count && bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let key = try string()
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key.prefix(40))\"") }
                i += 1
                skipWhitespace()
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw fail("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            i += 1
            var elements: [JSONLineValue] = []
            skipWhitespace()
            if i < bytes.count && bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
                throw fail("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            let v = try number()
            return .number(v, text: start..<i)
        default:
            throw fail("unexpected character '\(Unicode.Scalar(bytes[i]).escaped(asASCII: true))'")
        }
    }

    mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, (0..<w.count).allSatisfy({ bytes[i + $0] == w[$0] }) else { throw fail("invalid literal") }
        i += w.count
    }

    /// A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, converted by strtod.
    mutating func number() throws -> Double {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits() -> Int { let s = i; while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }; return i - s }
        let integerStart = i
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw fail("invalid number") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") { i += 1; guard digits() > 0 else { throw fail("invalid number") } }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("invalid number") }
        }
        let n = i - start
        guard n < 512 else { throw fail("number longer than 512 characters") }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf in
            let base = buf.baseAddress!
            memcpy(base, bytes.baseAddress! + start, n)
            base[n] = 0
            return strtod(base, nil)
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// A quoted string (i at the opening quote), escapes decoded; invalid UTF-8 is an error.
    mutating func string() throws -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("control character in a string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw fail("unterminated string") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00, i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    if low >= 0xDC00 && low < 0xE000 { scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) } else { scalar = 0xFFFD }
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            default: throw fail("invalid escape '\\\(Unicode.Scalar(e).escaped(asASCII: true))'")
            }
        }
        // Invalid UTF-8 is invalid JSON (RFC 8259 §8.1; Python's json refuses it): never repaired
        // into U+FFFD, which would make distinct labels equal.
        guard let text = String(validating: out, as: UTF8.self) else {
            i = start
            throw fail("invalid UTF-8 in a string (\(StrictUTF8.firstProblem(out)) of the string)")
        }
        return text
    }
}

/// A path into a JSON value: `embedding`, `data[0].embedding`, `response.body.data[0].embedding`
/// (a leading `$.` is allowed).
struct JSONPath: CustomStringConvertible, Equatable {
    enum Step: Equatable {
        case key(String)
        case index(Int)
    }

    var steps: [Step]

    init(steps: [Step]) { self.steps = steps }

    init?(_ text: String) {
        var t = Substring(text)
        if t.hasPrefix("$.") { t = t.dropFirst(2) } else if t.hasPrefix("$") { t = t.dropFirst() }
        var steps: [Step] = []
        var key = ""
        var chars = t.makeIterator()
        var pending: Character? = chars.next()
        func flushKey() -> Bool {
            if key.isEmpty { return false }
            steps.append(.key(key)); key = ""; return true
        }
        while let c = pending {
            pending = chars.next()
            switch c {
            case ".":
                if !key.isEmpty { _ = flushKey() } else if steps.isEmpty || steps.last.map({ if case .key = $0 { return true } else { return false } }) == true { return nil }
            case "[":
                _ = flushKey()
                var digits = ""
                while let d = pending, d != "]" { digits.append(d); pending = chars.next() }
                guard pending == "]", let n = Int(digits), n >= 0 else { return nil }
                pending = chars.next()
                steps.append(.index(n))
            default:
                key.append(c)
            }
        }
        _ = flushKey()
        guard !steps.isEmpty else { return nil }
        self.steps = steps
    }

    var description: String {
        var s = ""
        for step in steps {
            switch step {
            case .key(let k): s += s.isEmpty ? k : "." + k
            case .index(let n): s += "[\(n)]"
            }
        }
        return s
    }

    enum Lookup {
        case found(JSONLineValue)
        /// A null on the way (e.g. `"response": null` in a failed batch request) or at the end.
        case null
        case missing(String)
        /// A key on the path appears more than once in its object: which value is meant is
        /// ambiguous (Python's json keeps the last, other parsers the first).
        case duplicate(String)
    }

    func lookup(_ root: JSONLineValue) -> Lookup {
        var v = root
        var walked = JSONPath(steps: [])
        for step in steps {
            if case .null = v { return .null }
            walked.steps.append(step)
            switch step {
            case .key(let k):
                guard case .object = v else { return .missing("'\(walked)' is not reachable: \(v.typeName) has no key '\(k)'") }
                guard case .object(let members) = v, let next = members.first(where: { $0.key == k })?.value else { return .missing("no '\(walked)'") }
                let count = members.reduce(0) { $0 + ($1.key == k ? 1 : 0) }
                if count > 1 { return .duplicate("key '\(k)' appears \(count) times in one object (at '\(walked)')") }
                v = next
            case .index(let n):
                guard case .array(let a) = v else { return .missing("'\(walked)' is not reachable: \(v.typeName) is not an array") }
                guard n < a.count else { return .missing("no '\(walked)' (the array has \(a.count) element(s))") }
                v = a[n]
            }
        }
        if case .null = v { return .null }
        return .found(v)
    }

    /// Every path below `value` that holds a non-empty array of numbers, in document order.
    static func numericArrays(in value: JSONLineValue, at prefix: JSONPath = JSONPath(steps: []), into out: inout [JSONPath]) {
        switch value {
        case .array(let a):
            if !a.isEmpty, a.allSatisfy({ if case .number = $0 { return true } else { return false } }) {
                out.append(prefix)
                return
            }
            for (k, e) in a.enumerated() { numericArrays(in: e, at: JSONPath(steps: prefix.steps + [.index(k)]), into: &out) }
        case .object(let members):
            for m in members { numericArrays(in: m.value, at: JSONPath(steps: prefix.steps + [.key(m.key)]), into: &out) }
        default:
            break
        }
    }

    /// Every path below `value` whose last key is `name` and that holds a string (base64 vectors).
    static func strings(named name: String, in value: JSONLineValue, at prefix: JSONPath = JSONPath(steps: []), into out: inout [JSONPath]) {
        switch value {
        case .array(let a):
            for (k, e) in a.enumerated() { strings(named: name, in: e, at: JSONPath(steps: prefix.steps + [.index(k)]), into: &out) }
        case .object(let members):
            for m in members {
                let p = JSONPath(steps: prefix.steps + [.key(m.key)])
                if m.key == name, case .string = m.value { out.append(p) } else { strings(named: name, in: m.value, at: p, into: &out) }
            }
        default:
            break
        }
    }
}
