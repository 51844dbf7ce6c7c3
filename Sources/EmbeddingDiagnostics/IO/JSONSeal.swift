import Foundation

/// A checksum a JSON file embdiag writes carries over its own fields (`metadata_sha256` of a
/// mapping, `transform_sha256` of an isotropy transform): the SHA-256 of every other field in a
/// canonical form, as the JSON text reads back. It guards against edits and damage (an edited
/// mean or step, a renamed fit), not against someone who recomputes or deletes it.
public enum JSONSeal {
    /// `object` as pretty-printed JSON with `field` added: the checksum of the other fields as
    /// the written text parses back (Foundation's number parsing does not always return the
    /// written Double to the last bit, so the checksum is taken over what a reader will see).
    /// - Complexity: O(size of the object).
    static func sealed(_ object: [String: Any], field: String) throws -> Data {
        let plain = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        guard let asRead = try JSONSerialization.jsonObject(with: plain) as? [String: Any] else {
            throw EmbdiagError.usage("a sealed JSON file must be a JSON object")
        }
        var sealed = object
        sealed[field] = checksum(asRead, field: field)
        return try JSONSerialization.data(withJSONObject: sealed, options: [.prettyPrinted, .sortedKeys])
    }

    /// SHA-256 of the canonical text of every field but `field` (`canonical`).
    /// - Complexity: O(size of the object).
    static func checksum(_ json: [String: Any], field: String) -> String {
        var fields = json
        fields[field] = nil
        return Checksum.sha256(Data(canonical(fields).utf8))
    }

    /// Checks `field` against the other fields. `required`: a file without it is refused, naming
    /// the command that writes it (`again`); else accepted.
    /// - Complexity: O(size of the object).
    static func verify(_ json: [String: Any], field: String, path: String, required: Bool, what: String, again: String) throws {
        guard let value = json[field] else {
            if required {
                throw EmbdiagError.malformed(path, "no \(field): \(what) was written before such files were sealed, or edited; run \(again) again")
            }
            return
        }
        guard let recorded = value as? String, recorded == checksum(json, field: field) else {
            throw EmbdiagError.mismatch(path, "the file differs from what embdiag wrote (\(field)): \(what) was edited after it was saved")
        }
    }

    /// A JSON value as text that does not depend on how a parser spells numbers: objects with
    /// sorted keys, numbers as their Float64 bit pattern (integers as integers), booleans as
    /// true/false (told apart from the numbers 0 and 1 by their type, which Linux Foundation
    /// otherwise blurs), strings quoted with their quotes, backslashes and control characters escaped.
    /// - Complexity: O(size of the value).
    static func canonical(_ value: Any) -> String {
        switch value {
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { canonical($0) + ":" + canonical(object[$0]!) }.joined(separator: ",") + "}"
        case let array as [Any]:
            return "[" + array.map(canonical).joined(separator: ",") + "]"
        case let string as String:
            return "\"" + string.unicodeScalars.map { $0 == "\"" || $0 == "\\" || $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() + "\""
        case let number as NSNumber:
            if ["c", "B"].contains(String(cString: number.objCType)) { return number.boolValue ? "true" : "false" }
            if let i = MappingFile.jsonInteger(number) { return "\(i)" }
            return "f" + String(number.doubleValue.bitPattern, radix: 16)
        case is NSNull:
            return "null"
        default:
            return "?"
        }
    }
}
