import Foundation

/// A JSON header's decoding failure in one line a user can act on: the field and what is wrong
/// with it ("field 'seed': Parsed JSON number <-1> does not fit in UInt64"), not the error's
/// debug dump, which names coding keys and says "not valid JSON" of valid JSON.
enum HeaderDecodingError {
    static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func field(_ path: [CodingKey]) -> String {
            let names = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "" : "field '\(names.joined(separator: ".").replacingOccurrences(of: ".[", with: "["))': "
        }
        switch e {
        case .keyNotFound(let key, let context):
            return "\(field(context.codingPath))missing field '\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "\(field(context.codingPath))expected \(type) (\(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "\(field(context.codingPath))expected \(type), found null"
        case .dataCorrupted(let context):
            // A value that does not fit its type is reported with the message "not valid JSON"
            // one level down (underlyingError); its own description says what it is.
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "\(field(context.codingPath))\(underlying ?? context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
