// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "embdiag",
    products: [
        .library(name: "EmbeddingDiagnostics", targets: ["EmbeddingDiagnostics"]),
        .executable(name: "embdiag", targets: ["embdiag"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // YAML for `embdiag audit` configs (TOMLKit needs a package not available here).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // OpenBLAS' own cblas.h plus LAPACKE; see Guides/Architecture.md for why pkgConfig "openblas".
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        // GSL without gslcblas: cblas_* must bind to OpenBLAS (linking-notes).
        .systemLibrary(
            name: "CGSL", path: "Sources/CGSL", pkgConfig: "openblas",
            providers: [.apt(["libgsl-dev"])]),
        // OpenSSL's libcrypto for SHA-256 of inputs.
        .systemLibrary(
            name: "CLibCrypto", path: "Sources/CLibCrypto",
            providers: [.apt(["libssl-dev"])]),
        // Parquet page codecs: Debian's libraries, no hand-written decompressors.
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CGzip", path: "Sources/CGzip", providers: [.apt(["zlib1g-dev"])]),
        // libpq for postgresql:// inputs (Guides/Formats.md says why not postgres-nio).
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .target(
            name: "EmbeddingDiagnostics",
            dependencies: [
                "COpenBLAS", "CGSL", "CLibCrypto", "CSnappy", "CZstd", "CGzip", "CLibPQ",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]),
        .executableTarget(
            name: "embdiag",
            dependencies: [
                "EmbeddingDiagnostics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // Helpers shared by the test suites (calibration checks, arithmetic-based tolerances).
        .target(
            name: "EmbeddingDiagnosticsTestSupport",
            dependencies: ["EmbeddingDiagnostics"],
            path: "Tests/TestSupport"),
        // The suites run against the optimised library (`make test` builds with -c release), but
        // their own code is compiled unoptimised and file by file: optimising 13,000 lines of test
        // code as one module took five of CI's ten minutes and speeds up nothing that matters.
        .testTarget(
            name: "EmbeddingDiagnosticsTests",
            dependencies: ["EmbeddingDiagnostics", "EmbeddingDiagnosticsTestSupport"],
            swiftSettings: [.unsafeFlags(["-Onone", "-no-whole-module-optimization"])]),
    ],
    swiftLanguageModes: [.v6]
)
