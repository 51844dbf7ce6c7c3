import Foundation

/// A value a front end (the CLI, an app) gives the library — how settings are named in messages,
/// where progress goes, the memory budget — read from any thread. The library's defaults are
/// silent and name settings by their Swift fields; nothing in the library writes these.
///
/// Two ways to give it: setting `value` installs a process-wide default (what the CLI does once at
/// start); `withValue(_:_:)` binds a value for one call, task-locally, so that two analyses running
/// at once in one process (two tests, two requests of a server) each see their own. A binding is
/// seen by the code of the call on its own thread and in its child tasks; worker threads the
/// library starts itself see the process-wide default.
public final class FrontEndSetting<Value: Sendable>: @unchecked Sendable {
    private var storage: Value
    private let lock = NSLock()
    private let scoped = TaskLocal<Value?>(wrappedValue: nil)

    public init(_ value: Value) { storage = value }

    /// The value bound by the innermost `withValue` of this task, else the process-wide default;
    /// setting it sets the default.
    public var value: Value {
        get { scoped.get() ?? lock.withLock { storage } }
        set { lock.withLock { storage = newValue } }
    }

    /// Runs `body` with `value` bound for this task (and its child tasks), then unbinds it.
    public func withValue<R>(_ value: Value, _ body: () throws -> R) rethrows -> R {
        try scoped.withValue(value, operation: body)
    }
}
