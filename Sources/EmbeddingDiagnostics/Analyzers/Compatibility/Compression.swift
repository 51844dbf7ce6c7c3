import Foundation

/// A cheaper version of OLD itself used as NEW (`--new truncate:D|int8|binary`): "compression as an
/// upgrade" — can a smaller index serve instead of the full one? Guide: Guides/Compatibility.md.
public enum Compression: Equatable, Sendable, CustomStringConvertible {
    /// The first D dimensions (Matryoshka-style prefix).
    case truncate(Int)
    /// Per-dimension scalar quantisation to 256 levels from the column min/max (the calibration of
    /// sentence-transformers' `quantize_embeddings(precision="int8")`); codes trunc((x − min)/step − 128) ∈ −128…127 as floats, step = (max − min)/255.
    case int8
    /// Sign bits as ±1 (Hamming ranking = inner-product ranking of ±1 vectors).
    case binary

    /// Parses `truncate:D`, `int8`, `binary`; nil when the text is not one of them (then it is a path).
    public static func parse(_ text: String) throws -> Compression? {
        let s = text.lowercased()
        if s == "int8" { return .int8 }
        if s == "binary" || s == "ubinary" { return .binary }
        if s.hasPrefix("truncate:") {
            guard let d = Int(s.dropFirst(9)), d >= 1 else {
                throw EmbdiagError.usage("\(Setting.new) \(text): truncate:D needs a positive dimension D")
            }
            return .truncate(d)
        }
        return nil
    }

    public var description: String {
        switch self {
        case .truncate(let d): return "truncate:\(d)"
        case .int8: return "int8"
        case .binary: return "binary"
        }
    }

    /// The compressed copy of `m` (a new heap matrix).
    public func apply(_ m: Matrix) throws -> Matrix {
        let n = m.rows, d = m.cols
        switch self {
        case .truncate(let k):
            guard k <= d else { throw EmbdiagError.usage("\(Setting.new) truncate:\(k): OLD has only \(d) dimensions") }
            let out = Matrix(rows: n, cols: k)
            let o = out.mutablePointer
            for i in 0..<n { (o + i * k).update(from: m.pointer + i * d, count: k) }
            return out
        case .int8:
            var lo = [Float](repeating: .infinity, count: d), hi = [Float](repeating: -.infinity, count: d)
            for i in 0..<n {
                let r = m.pointer + i * d
                for j in 0..<d { lo[j] = min(lo[j], r[j]); hi[j] = max(hi[j], r[j]) }
            }
            let out = Matrix(rows: n, cols: d)
            let o = out.mutablePointer
            for i in 0..<n {
                let r = m.pointer + i * d, w = o + i * d
                for j in 0..<d {
                    let step = (Double(hi[j]) - Double(lo[j])) / 255
                    let code = step > 0 ? ((Double(r[j]) - Double(lo[j])) / step - 128).rounded(.towardZero) : 0
                    w[j] = Float(min(127, max(-128, code)))
                }
            }
            return out
        case .binary:
            let out = Matrix(rows: n, cols: d)
            let o = out.mutablePointer
            for i in 0..<(n * d) { o[i] = m.pointer[i] > 0 ? 1 : -1 }
            return out
        }
    }
}
