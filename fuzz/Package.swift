// swift-tools-version:6.0
// libFuzzer harnesses for embdiag's readers. Separate package so that the main build
// never links a target without `main`. Build and run with fuzz/run (make fuzz); `make test` replays
// fuzz/replay/ through ReaderHarness.swift, which the test target compiles too.
import PackageDescription

let package = Package(
    name: "embdiag-fuzz",
    dependencies: [
        .package(name: "embdiag", path: ".."),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "FuzzReaders",
            dependencies: [.product(name: "EmbeddingDiagnostics", package: "embdiag")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        // The audit YAML: compiles the CLI's AuditConfiguration.swift and AuditSchema.swift (symlinks).
        .executableTarget(
            name: "FuzzAudit",
            dependencies: [.product(name: "EmbeddingDiagnostics", package: "embdiag"), .product(name: "Yams", package: "Yams")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v6]
)
