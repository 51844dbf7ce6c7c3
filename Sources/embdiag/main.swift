import COpenBLAS
import EmbeddingDiagnostics
import Foundation

// OpenBLAS chooses its kernel when the library loads, before main: if it fell back to a generic
// kernel on a CPU it does not recognise, run again with the right OPENBLAS_CORETYPE (6× faster
// GEMM here). Once only: the variable set here makes betterCoreType() return nil next time.
if let core = BLAS.betterCoreType() {
    setenv("OPENBLAS_CORETYPE", core, 1)
    var cargs = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", &cargs)
    // execv returns only on failure: carry on with the slower kernel.
}
// `shift` interleaves large GEMMs with scans on the same cores: idle BLAS threads should sleep
// at once there (2 s of 44 at 2 × 20,000 rows). Not for the others: adapter training (`compat
// --fit`) makes many mid-sized calls and pays for waking the threads each time (10 % slower).
if CommandLine.arguments.dropFirst().first == "shift" { BLAS.shortenIdleThreadSpin() }
embdiag_line_buffer_stdout()
// Progress bars for long passes: on a terminal only, never with --quiet/-q (CI logs stay clean).
let quiet = CommandLine.arguments.contains { $0 == "--quiet" || $0 == "-q" }
ProgressReporter.installed.value = isatty(2) != 0 && !quiet ? TerminalProgressBar.reporter : .silent
// A stream input's temporary copy is removed on SIGTERM/SIGINT/SIGHUP too (CI cancellation, `timeout`).
// A mask inherited from the parent (some launchers spawn with these signals blocked) would leave
// them pending and embdiag unstoppable: they are unblocked first.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, s) }
sigprocmask(SIG_UNBLOCK, &stopSignals, nil)
StreamInput.removeCopiesOnSignals()
// The budget bounds stream copies in every command, also those without --memory-budget (`info -`);
// commands with the option install it again (and refuse an invalid value) when they validate.
if let env = ProcessInfo.processInfo.environment["EMBDIAG_MEMORY_BUDGET"], !env.isEmpty,
   let budget = try? MemoryBudget.parse(env, origin: "EMBDIAG_MEMORY_BUDGET") {
    MemoryBudget.installed.value = budget
}
// Errors from the library name its settings by the CLI's flags (`--on-invalid`, not `onInvalid`).
Setting.namer.value = SettingFlags.flag
Embdiag.main()
