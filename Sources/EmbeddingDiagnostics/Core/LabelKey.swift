/// A label or id as a dictionary key, compared as an exact string of code points (its UTF-8
/// bytes). Swift's `String ==` is canonical equivalence: 'café' written with U+00E9 and with
/// 'e' + U+0301, or 'Å' as U+00C5 and U+212B, would be one label. Python dicts and sets, pandas,
/// SQL joins and gensim vocabularies compare code points, and so does every label match in
/// embdiag: canonically equivalent spellings are different labels (Guides/Formats.md).
///
/// Ordering (`<`) is by code point (byte-wise UTF-8), which for NFC text is Swift's order.
/// - Complexity: hashing and comparing are O(bytes), with no allocation for native strings.
public struct LabelKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let string: String

    public init(_ string: String) {
        var s = string
        s.makeContiguousUTF8()
        self.string = s
    }

    public var description: String { string }

    public static func == (a: LabelKey, b: LabelKey) -> Bool { same(a.string, b.string) }

    public static func < (a: LabelKey, b: LabelKey) -> Bool { precedes(a.string, b.string) }

    public func hash(into hasher: inout Hasher) {
        if string.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) != nil { return }
        for b in string.utf8 { hasher.combine(b) }
    }

    /// Whether two strings are the same code points (byte-wise UTF-8 equality).
    public static func same(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let r: Bool?? = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb in
                pa.count == 0 || equalBytes(pa.baseAddress!, pb.baseAddress!, pa.count)
            }
        }
        if case .some(.some(let equal)) = r { return equal }
        return a.utf8.elementsEqual(b.utf8)
    }

    /// Whether `a` comes before `b` in code-point order (byte-wise UTF-8, shorter prefix first).
    public static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func equalBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        // Eight bytes at a time, then the rest.
        while i + 8 <= n {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }
}

extension Sequence where Element == String {
    /// The strings sorted in code-point order (`LabelKey` order), deterministic even among
    /// canonically equivalent spellings.
    public func sortedByCodePoint() -> [String] { sorted(by: LabelKey.precedes) }
}
