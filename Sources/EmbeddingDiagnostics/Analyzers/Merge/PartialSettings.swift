import Foundation

/// The settings a partial state was computed with, as typed values. A state file stores them as
/// canonical text (`PartialState.parameters`, one string per key, compared by `ShardSet`); the
/// analyzers never read that text themselves: they encode and decode it here, strictly.
public protocol PartialSettings: Equatable, Sendable {
    /// The canonical text written to the state file (the keys and formatting a state has always had).
    var parameters: [String: String] { get }
    /// Reads the text back: a missing key, a value that does not parse or a key this analyzer
    /// never writes is a malformed state, never a default.
    init(parameters: [String: String], path: String?) throws
}

extension PartialState {
    /// The state's settings, typed (`PartialSettings.init(parameters:path:)`).
    public func settings<S: PartialSettings>(_ type: S.Type, path: String?) throws -> S {
        try S(parameters: parameters, path: path)
    }
}

/// Strict reader of a state's parameter text: every key read is required unless asked as
/// optional, and `finish()` refuses keys nobody read.
struct StateParameterReader {
    let parameters: [String: String]
    let path: String?
    private var read: Set<String> = []

    init(_ parameters: [String: String], path: String?) {
        self.parameters = parameters
        self.path = path
    }

    mutating func optionalText(_ key: String) -> String? {
        read.insert(key)
        return parameters[key]
    }

    mutating func text(_ key: String) throws -> String {
        guard let v = optionalText(key) else { throw EmbdiagError.malformed(path, "partial state lacks parameter \(key)") }
        return v
    }

    mutating func int(_ key: String) throws -> Int {
        let v = try text(key)
        guard let i = Int(v) else { throw EmbdiagError.malformed(path, "partial state parameter \(key) = '\(v)' is not an integer") }
        return i
    }

    mutating func optionalInt(_ key: String) throws -> Int? {
        guard parameters[key] != nil else { read.insert(key); return nil }
        return try int(key)
    }

    mutating func double(_ key: String) throws -> Double {
        let v = try text(key)
        guard let d = Double(v), d.isFinite else { throw EmbdiagError.malformed(path, "partial state parameter \(key) = '\(v)' is not a finite number") }
        return d
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, as _: T.Type) throws -> T where T.RawValue == String {
        let v = try text(key)
        guard let c = T(rawValue: v) else {
            throw EmbdiagError.malformed(path, "partial state parameter \(key) = '\(v)' is none of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return c
    }

    /// Refuses keys no field read: a state of another analyzer version or a hand-edited header.
    func finish() throws {
        if let unknown = Set(parameters.keys).subtracting(read).sorted().first {
            throw EmbdiagError.malformed(path, "partial state has an unknown parameter \(unknown)")
        }
    }
}
