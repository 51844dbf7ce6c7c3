// swift-tools-version:6.0
// libFuzzer harnesses for embdiag's readers (issue #9). Separate package so that the main build
// never links a target without `main`. Build and run with fuzz/run (not part of `make test`).
import PackageDescription

let package = Package(
    name: "embdiag-fuzz",
    dependencies: [.package(name: "embdiag", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzReaders",
            dependencies: [.product(name: "EmbeddingDiagnostics", package: "embdiag")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v5]
)
