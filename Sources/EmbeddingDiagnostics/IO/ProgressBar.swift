import Foundation

/// A progress bar on stderr, shown only when stderr is a terminal (CI logs stay clean), redrawn
/// at most ten times a second, erased at the end.
public final class ProgressBar: @unchecked Sendable {
    /// Long passes (checksums of big files, covariance, depth blocks) draw a bar only when the
    /// CLI allows it: stderr is a terminal and --quiet was not given. Libraries stay silent.
    nonisolated(unsafe) public static var longPassesEnabled = false

    /// A bar for a long pass, or nil when bars are off or the pass is too small to need one.
    public static func forLongPass(total: Int, label: String, minimum: Int = 1) -> ProgressBar? {
        longPassesEnabled && total >= minimum ? ProgressBar(total: total, label: label) : nil
    }

    let total: Int
    let label: String
    var lastDraw = DispatchTime(uptimeNanoseconds: 0)
    let enabled: Bool

    public init(total: Int, label: String) {
        self.total = max(1, total)
        self.label = label
        enabled = isatty(2) != 0
    }

    public func update(_ done: Int) {
        guard enabled else { return }
        let now = DispatchTime.now()
        guard now.uptimeNanoseconds - lastDraw.uptimeNanoseconds > 100_000_000 else { return }
        lastDraw = now
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(Int(fraction * 100))%".utf8))
    }

    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
