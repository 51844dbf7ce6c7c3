import Foundation

/// The classifier two-sample test (Lopez-Paz & Oquab, ICLR 2017) with cross-fitting: an
/// L2-regularised logistic regression learns to tell the second sample from the first; every row
/// is scored by the model fitted on the other folds. Within one fold the scores come from a model
/// that never saw the fold, so the fold's Mann–Whitney test (AUC > 0.5) is exact under H₀; the
/// p-value is the Bonferroni bound over the K folds, min(1, K·min_f p_f), valid whatever their
/// dependence. (One Mann–Whitney test of all out-of-fold scores pooled is **not** valid: each
/// fold's model was trained on the other folds' labels, so the pooled AUC behaves like a quadratic
/// form in the labels — measured 11.4 % of p < 0.05 at α = 0.05 on 40 + 40 splits of one corpus.)
/// The pooled out-of-fold AUC is reported as the effect size. Guide: Guides/Shift.md.
public struct ClassifierTest: Sendable, Equatable {
    /// AUC of the out-of-fold scores: P(score of a second-sample row > score of a first-sample
    /// row), ties ½ — 0.5 when the classifier cannot tell the samples apart.
    public internal(set) var auc: Double
    /// min(1, K·min_f p_f) over the folds' one-sided (AUC > 0.5) Mann–Whitney p-values, each
    /// exact when its fold has no ties and m_f·n_f ≤ 10,000, otherwise normal with tie and
    /// continuity correction.
    public internal(set) var pValue: Double
    /// Every fold's p-value and AUC.
    public internal(set) var foldPValues: [Double]
    public internal(set) var foldAUCs: [Double]
    /// True when every fold's p-value is exact.
    public internal(set) var exact: Bool
    /// Mann–Whitney of all out-of-fold scores pooled (its U gives the AUC; its p-value is not used).
    public internal(set) var mannWhitney: MannWhitneyResult
    public internal(set) var folds: Int
    /// λ of the penalty (λ/2)‖β‖² (scikit-learn's C = 1/λ).
    public internal(set) var penalty: Double
    public internal(set) var seed: UInt64
    /// Out-of-fold P(second sample | row) for every pooled row (first sample first).
    public internal(set) var outOfFoldProbability: [Double]
    /// Newton iterations of each fold's fit, and whether every fit converged.
    public internal(set) var iterations: [Int]
    public internal(set) var converged: Bool
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
/// valid under relabelling. A column whose standard deviation is at most `resolution` is treated
/// as constant: on unit rows (the classifier's input) 2⁻²⁴ is the Float32 resolution of a
/// coordinate, and scaling a column of round-off residues (0 in one corpus, 1e-30 in the other)
/// to unit variance let the classifier separate two samples of one distribution perfectly.
/// - Complexity: O(N·d).
public func standardizedColumns(_ z: Matrix, resolution: Double = 0x1p-24) -> Matrix {
    let n = z.rows, d = z.cols
    let mean = Matrix.columnMeans(z)
    var variance = [Double](repeating: 0, count: d)
    for i in 0..<n { for t in 0..<d { let v = Double(z[i, t]) - mean[t]; variance[t] += v * v } }
    let out = Matrix(rows: n, cols: d)
    let op = out.mutablePointer
    let scale = variance.map { v -> Double in
        let sd = (v / Double(max(n, 1))).squareRoot()
        return sd > resolution ? 1 / sd : 0
    }
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
    var foldP: [Double] = [], foldAUC: [Double] = []
    var allExact = true
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
        let second = test.filter { $0 >= m }.map { decision[$0] }, first = test.filter { $0 < m }.map { decision[$0] }
        if second.isEmpty || first.isEmpty { continue }
        let fold = RankTests.mannWhitneyU(second, first, alternative: .greater)
        foldP.append(fold.pValueExact ?? fold.pValue)
        foldAUC.append(fold.statistic / Double(first.count * second.count))
        allExact = allExact && fold.pValueExact != nil
    }
    let mw = RankTests.mannWhitneyU(Array(decision[m...]), Array(decision[..<m]), alternative: .greater)
    let n = total - m
    let p = foldP.isEmpty ? 1 : min(1, Double(foldP.count) * foldP.min()!)
    return ClassifierTest(auc: mw.statistic / Double(m * n), pValue: p, foldPValues: foldP, foldAUCs: foldAUC, exact: allExact,
                          mannWhitney: mw, folds: k, penalty: penalty, seed: seed, outOfFoldProbability: probability,
                          iterations: iterations, converged: converged)
}
