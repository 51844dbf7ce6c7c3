import Testing
@testable import EmbeddingDiagnostics

@Suite struct BLASLinkTests {
    @Test func cblasCallsReachOpenBLAS() {
        // A silent fallback to gslcblas or reference BLAS would be ~17× slower: fail loudly.
        #expect(BLAS.configuration.hasPrefix("OpenBLAS"))
    }
}
