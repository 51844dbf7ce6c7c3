import EmbeddingDiagnostics
import Foundation

/// The CLI's progress bar on stderr for the library's long passes, installed only when stderr is
/// a terminal and --quiet/-q was not given (CI logs stay clean); redrawn at most ten times a
/// second, erased at the end.
final class TerminalProgressBar: ProgressTask, @unchecked Sendable {
    static let reporter = ProgressReporter { label, total in TerminalProgressBar(total: total, label: label) }

    let total: Int
    let label: String
    var lastDraw = DispatchTime(uptimeNanoseconds: 0)
    let enabled: Bool

    init(total: Int, label: String) {
        self.total = max(1, total)
        self.label = label
        enabled = isatty(2) != 0
    }

    func update(_ done: Int) {
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

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
