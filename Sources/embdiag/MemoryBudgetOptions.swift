import ArgumentParser
import EmbeddingDiagnostics
import Foundation

/// `--memory-budget` (else `EMBDIAG_MEMORY_BUDGET`, else half of the physical memory): the memory
/// an analysis may plan to use. Installed for the library when the options are validated, so
/// every option that sizes memory is checked against it before any work starts
/// (`MemoryBudget.check`; Guides/Architecture.md "Memory budget").
struct MemoryBudgetOptions: ParsableArguments {
    @Option(help: "Memory an analysis may plan to use: a size (8GiB, 512MiB, bytes) or a share of the physical memory (60%); default: EMBDIAG_MEMORY_BUDGET, else half of the physical memory. Options that would need more are refused before any work starts.")
    var memoryBudget: String?

    func validate() throws {
        if let memoryBudget {
            MemoryBudget.installed.value = try MemoryBudget.parse(memoryBudget, origin: "--memory-budget")
        } else if let env = ProcessInfo.processInfo.environment["EMBDIAG_MEMORY_BUDGET"], !env.isEmpty {
            MemoryBudget.installed.value = try MemoryBudget.parse(env, origin: "EMBDIAG_MEMORY_BUDGET")
        } else {
            // Reset: `audit` runs several commands in one process, each with its own options.
            MemoryBudget.installed.value = .default
        }
    }
}
