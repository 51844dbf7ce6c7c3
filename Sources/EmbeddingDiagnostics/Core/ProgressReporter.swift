/// One long pass that reports how far it is (units are the pass's own: rows, bytes, blocks).
public protocol ProgressTask: AnyObject, Sendable {
    func update(_ done: Int)
    func finish()
}

/// Where long passes (checksums of big files, covariance, depth blocks, all-pairs neighbours,
/// permutations) report progress. The library never draws anything itself: it is silent unless a
/// front end installs a reporter, as the CLI does with a bar on stderr when stderr is a terminal
/// and --quiet is not given:
///
///     try ProgressReporter.installed.withValue(ProgressReporter { label, total in MyBar(label, total) }) {
///         try runTheAnalysis()
///     }
public struct ProgressReporter: Sendable {
    public typealias Begin = @Sendable (_ label: String, _ total: Int) -> any ProgressTask

    let begin: Begin?

    public init(_ begin: @escaping Begin) { self.begin = begin }
    private init() { begin = nil }

    /// Reports nothing (the default).
    public static let silent = ProgressReporter()

    /// The reporter the front end installed (silent by default).
    public static let installed = FrontEndSetting(ProgressReporter.silent)
    public static var current: ProgressReporter { installed.value }

    /// A task for a pass of `total` units, or nil when silent or when the pass is smaller than
    /// `minimum` units (too short to need one).
    public func task(_ label: String, total: Int, minimum: Int = 1) -> (any ProgressTask)? {
        guard let begin, total >= minimum else { return nil }
        return begin(label, max(1, total))
    }
}
