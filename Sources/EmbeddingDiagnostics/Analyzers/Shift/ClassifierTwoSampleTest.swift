import Foundation

/// The classifier two-sample test (Lopez-Paz & Oquab, ICLR 2017) with cross-fitting: an
/// L2-regularised logistic regression learns to tell the second sample from the first; every row
/// is scored by the model fitted on the other folds; the out-of-fold scores' AUC is tested with the
/// Mann–Whitney U test. Guide: Guides/Shift.md.
public struct ClassifierTest: Sendable, Equatable {
    /// AUC of the out-of-fold scores: P(score of a second-sample row > score of a first-sample
    /// row), ties ½ — 0.5 when the classifier cannot tell the samples apart.
    public var auc: Double
    /// One-sided (AUC > 0.5) Mann–Whitney p-value: exact when there are no ties and m·n ≤
    /// 10,000, otherwise the normal approximation with tie and continuity correction.
    public var pValue: Double
    public var exact: Bool
    public var mannWhitney: MannWhitneyResult
    public var folds: Int
    /// λ of the penalty (λ/2)‖β‖² (scikit-learn's C = 1/λ).
    public var penalty: Double
    public var seed: UInt64
    /// Out-of-fold P(second sample | row) for every pooled row (first sample first).
    public var outOfFoldProbability: [Double]
    /// Newton iterations of each fold's fit, and whether every fit converged.
    public var iterations: [Int]
    public var converged: Bool
}

/// Stratified fold of every pooled row (first sample first): each sample is shuffled (seeded) and
/// dealt to the folds in turn, the second sample continuing where the first stopped, so fold
/// sizes differ by at most one and each fold holds both samples in about the same proportion.
/// - Complexity: O(m + n).
public func stratifiedFolds(firstCount m: Int, secondCount n: Int, folds k: Int, seed: UInt64) -> [Int] {
    var rng = SeededGenerator(seed: seed ^ 0x666F_6C64)
    var out = [Int](repeating: 0, count: m + n)
    var first = Array(0..<m), second = Array(m..<(m + n))
    first.shuffle(using: &rng)
    second.shuffle(using: &rng)
    for (p, i) in first.enumerated() { out[i] = p % k }
    for (p, i) in second.enumerated() { out[i] = (p + m) % k }
    return out
}

/// Columns centred and scaled to unit variance over the pooled sample (population variance, as
/// scikit-learn's StandardScaler; constant columns become 0). Uses no labels, so the test stays
/// valid under relabelling.
/// - Complexity: O(N·d).
public func standardizedColumns(_ z: Matrix) -> Matrix {
    let n = z.rows, d = z.cols
    let mean = columnMeans(z)
    var variance = [Double](repeating: 0, count: d)
    for i in 0..<n { for t in 0..<d { let v = Double(z[i, t]) - mean[t]; variance[t] += v * v } }
    let out = Matrix(rows: n, cols: d)
    let op = out.mutablePointer
    let scale = variance.map { $0 > 0 ? 1 / ($0 / Double(max(n, 1))).squareRoot() : 0 }
    for i in 0..<n { for t in 0..<d { op[i * d + t] = Float((Double(z[i, t]) - mean[t]) * scale[t]) } }
    return out
}

/// Runs the cross-fitted classifier test. `features` are the pooled rows (first sample first; the
/// analyzer passes standardized unit rows), `folds[i]` ∈ 0..<foldCount.
/// - Complexity: O(folds · iterations · (N·d² + d³)).
public func classifierTwoSampleTest(features x: Matrix, firstCount m: Int, folds: [Int], foldCount k: Int,
                                    penalty: Double = 1, seed: UInt64 = 42) throws -> ClassifierTest {
    let total = x.rows
    precondition(folds.count == total && m > 0 && m < total && k >= 2)
    var probability = [Double](repeating: 0.5, count: total)
    var decision = [Double](repeating: 0, count: total)
    var iterations: [Int] = []
    var converged = true
    for f in 0..<k {
        let train = (0..<total).filter { folds[$0] != f }, test = (0..<total).filter { folds[$0] == f }
        guard !test.isEmpty else { continue }
        let model = try fitLogisticRegression(x.gather(rows: train), labels: train.map { $0 >= m }, penalty: penalty)
        iterations.append(model.iterations)
        converged = converged && model.converged
        for (i, s) in zip(test, model.decision(x.gather(rows: test))) {
            decision[i] = s
            probability[i] = 1 / (1 + Foundation.exp(-s))
        }
    }
    let mw = mannWhitneyU(Array(decision[m...]), Array(decision[..<m]), alternative: .greater)
    let n = total - m
    return ClassifierTest(auc: mw.u / Double(m * n), pValue: mw.pValueExact ?? mw.pValue, exact: mw.pValueExact != nil,
                          mannWhitney: mw, folds: k, penalty: penalty, seed: seed, outOfFoldProbability: probability,
                          iterations: iterations, converged: converged)
}
