import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Front-end settings (progress, setting names, memory budget): a value bound with `withValue` is
/// the calling task's own, so analyses running at once in one process do not see each other's; the
/// process-wide default stays for everything unbound.
@Suite struct FrontEndSettingTests {
    @Test func bindingsAreTaskLocal() async throws {
        let setting = FrontEndSetting(0)
        setting.value = 7
        #expect(setting.value == 7)
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for v in 1...8 {
                group.addTask {
                    setting.withValue(v) {
                        // Held long enough for the other tasks to bind theirs meanwhile.
                        Thread.sleep(forTimeInterval: 0.02)
                        return (v, setting.value)
                    }
                }
            }
            for try await (bound, seen) in group { #expect(bound == seen) }
        }
        #expect(setting.value == 7)
        setting.withValue(3) {
            setting.withValue(4) { #expect(setting.value == 4) }
            #expect(setting.value == 3)
        }
    }

    /// Two analyses with different memory budgets at once: each is refused or not by its own.
    @Test func concurrentBudgetsDoNotMix() async throws {
        let small = try MemoryBudget.parse("1KB", origin: "test")
        let large = try MemoryBudget.parse("64GB", origin: "test")
        async let a: Bool = MemoryBudget.installed.withValue(small) {
            Thread.sleep(forTimeInterval: 0.02)
            return MemoryBudget.installed.value == small
        }
        async let b: Bool = MemoryBudget.installed.withValue(large) {
            Thread.sleep(forTimeInterval: 0.02)
            return MemoryBudget.installed.value == large
        }
        let (x, y) = await (a, b)
        #expect(x && y)
    }
}
