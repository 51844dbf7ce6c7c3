import Foundation

/// How much memory one analysis may plan to use. Every option that sizes memory (permutations,
/// k, samples, anchors, queries, pairs, bootstrap replicates, …) is turned into an estimate by
/// the analysis itself (`MemoryEstimate`, next to each analysis) and checked against the budget
/// before any work starts, so an absurd value is a usage error that names the option and the
/// estimate, never an allocator abort halfway through.
///
/// Default: half of the physical memory (`defaultFraction`) — the rest is left for the inputs
/// already read and for everything else on the machine. A front end installs its own budget once
/// (`MemoryBudget.installed`); embdiag reads `EMBDIAG_MEMORY_BUDGET` and `--memory-budget`.
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    public var bytes: UInt64
    /// Where the value came from, shown in messages ("half of the 15.5 GiB of physical memory").
    public var origin: String

    public init(bytes: UInt64, origin: String) {
        self.bytes = bytes
        self.origin = origin
    }

    /// Share of the physical memory the default budget allows.
    public static let defaultFraction = 0.5

    public static var `default`: MemoryBudget {
        let physical = ProcessInfo.processInfo.physicalMemory
        return MemoryBudget(bytes: UInt64(Double(physical) * defaultFraction),
                            origin: "half of the \(MemoryEstimate.describe(physical)) of physical memory")
    }

    /// The budget every analysis checks against (installed once by a front end).
    public static let installed = FrontEndSetting<MemoryBudget>(.default)

    /// "8GiB", "512MiB", "2G", "1.5T", "100000000" (bytes), or a share of the physical memory
    /// "60%". Binary units (K/M/G/T = 1024^n; "B" and "iB" optional).
    public static func parse(_ text: String, origin: String) throws -> MemoryBudget {
        let s = text.trimmingCharacters(in: .whitespaces)
        let bad = EmbdiagError.usage("\(origin) '\(text)': give a size such as 8GiB, 512MiB or 100000000 (bytes), or a share of the physical memory such as 60%")
        if s.hasSuffix("%") {
            guard let p = DecimalNumber.parse(s.dropLast()) else { throw bad }
            guard p > 0, p <= 100 else {
                throw EmbdiagError.usage("\(origin) '\(text)': a share of the physical memory lies in (0, 100] % (got \(s))")
            }
            let physical = ProcessInfo.processInfo.physicalMemory
            // At least one byte: a share that rounds down to 0 bytes would refuse every analysis
            // with a budget of "0 bytes".
            guard Double(physical) * p / 100 >= 1 else { throw bad }
            return MemoryBudget(bytes: UInt64(Double(physical) * p / 100), origin: "\(origin) \(s) of \(MemoryEstimate.describe(physical))")
        }
        var number = s.uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) { number.removeLast(suffix.count); break }
        var factor = 1.0
        if let last = number.last, let power = ["K": 1.0, "M": 2, "G": 3, "T": 4][String(last)] {
            factor = Foundation.pow(1024, power)
            number.removeLast()
        }
        guard let v = DecimalNumber.parse(number) else { throw bad }
        guard v > 0, v * factor >= 1 else { throw EmbdiagError.usage("\(origin) '\(text)': a size must be at least one byte") }
        guard v * factor < 0x1p63 else {
            throw EmbdiagError.usage("\(origin) '\(text)': \(s) is more than the largest size, 8 EiB (2^63 bytes); give a size such as 8GiB or a share such as 60%")
        }
        return MemoryBudget(bytes: UInt64(v * factor), origin: "\(origin) \(s)")
    }

    /// Throws a usage error for the first estimate above the budget, naming its option, the
    /// estimate and the budget.
    ///
    /// - Complexity: O(estimates).
    public func check(_ estimates: [MemoryEstimate]) throws {
        for e in estimates where e.bytes > Double(bytes) {
            throw EmbdiagError.usage("\(e.option) needs ≈ \(MemoryEstimate.describe(e.bytes)) for \(e.purpose); the budget is \(MemoryEstimate.describe(UInt64(bytes))) (\(origin); raise it with EMBDIAG_MEMORY_BUDGET or --memory-budget)")
        }
    }

    public var description: String { "\(MemoryEstimate.describe(bytes)) (\(origin))" }
}

/// Memory an option makes an analysis allocate, estimated from the option's value and the input
/// sizes before any work starts (`MemoryBudget.check`). Estimates count the large arrays the
/// option sizes, not the inputs already read; Double so that absurd values cannot overflow.
public struct MemoryEstimate: Sendable, Equatable {
    /// The option and its value as the user gave it, e.g. "--permutations 1000000000".
    public var option: String
    public var bytes: Double
    /// What the memory holds ("the permutation design of 1,200 rows").
    public var purpose: String

    public init(option: String, bytes: Double, purpose: String) {
        self.option = option
        self.bytes = bytes
        self.purpose = purpose
    }

    /// `Setting` and value: "\(Setting.permutations) 1000".
    public init(_ setting: Setting, _ value: CustomStringConvertible, bytes: Double, purpose: String) {
        self.init(option: "\(setting) \(value)", bytes: bytes, purpose: purpose)
    }

    /// "56 GiB", "512 MiB", "12 KiB", "800 bytes".
    public static func describe(_ bytes: Double) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = bytes, u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(Int(v)) bytes" }
        return v >= 100 || v.rounded() == v ? "\(Int(v.rounded())) \(units[u])" : "\(String(format: "%.1f", v)) \(units[u])"
    }

    public static func describe(_ bytes: UInt64) -> String { describe(Double(bytes)) }
}
