/// A configuration setting named in an error message. The library names its settings by their
/// configuration field; a front end that exposes them under other names (the CLI's flags) installs
/// its own names with `Setting.namer.value = …`, as `embdiag` does at start-up.
public enum Setting: String, CaseIterable, Sendable, CustomStringConvertible {
    case alpha
    case anchors
    case bandwidth
    case bandwidthScales
    case bandChunks
    case by
    case byFile
    case chunk
    case classifierWeight
    case clusters
    case column
    case components
    case debias
    case definitional
    case depth
    case direction
    case directions
    case distance
    case duplicates
    case expectedRows
    case expectedOtherRows
    case fit
    case fitCurve
    case folds
    case format
    case header
    case idColumn
    case isoscoreZeta
    case jsonPath
    case k
    case key
    case labelColumn
    case labelPath
    case labels
    case neighborK
    case maxRows
    case mmdBlockRows
    case mmdEstimator
    case names
    case new
    case newIds
    case newQueries
    case noWorseTolerance
    case oldIds
    case oldQueries
    case onInvalid
    case otherCorpus
    case pairBy
    case pairs
    case partial
    case partialPass
    case penalty
    case permutations
    case query
    case queries
    case queryLabels
    case referenceRows
    case referenceSample
    case referenceState
    case require
    case retrievalOnly
    case rowOffset
    case saveMapping
    case saveReference
    case saveTransform
    case stateOut
    case table
    case tests
    case top
    case threshold
    case thresholdBootstrap
    case trainFraction
    case trainRows
    case window

    /// How settings are named in messages (default: the configuration field, in backticks).
    public static let namer = FrontEndSetting<@Sendable (Setting) -> String>({ "`\($0.rawValue)`" })

    public var description: String { Setting.namer.value(self) }
}
