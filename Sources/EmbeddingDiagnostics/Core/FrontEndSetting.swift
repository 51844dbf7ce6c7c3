import Foundation

/// A value a front end (the CLI, an app) installs once for the library — how settings are named in
/// messages, where progress goes — read from any thread. The library's defaults are silent and
/// name settings by their Swift fields; nothing in the library writes these.
public final class FrontEndSetting<Value: Sendable>: @unchecked Sendable {
    private var storage: Value
    private let lock = NSLock()

    public init(_ value: Value) { storage = value }

    public var value: Value {
        get { lock.withLock { storage } }
        set { lock.withLock { storage = newValue } }
    }

    /// Runs `body` with `value` installed, then restores the previous value.
    public func withValue<R>(_ value: Value, _ body: () throws -> R) rethrows -> R {
        let previous = self.value
        self.value = value
        defer { self.value = previous }
        return try body()
    }
}
