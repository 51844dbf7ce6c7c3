import Foundation

/// The k largest entries of a row of scores, decided by a stated rule so that every CPU picks the
/// same set: larger value first, and on exact equality the lower column index.
enum LargestEntries {
    /// Columns of the `k` largest of `values[0..<count]`, best first (ties: lower column).
    ///
    /// - Complexity: O(count + r·k) where r is how often a value enters the running top k
    ///   (about k·ln(count / k) for values in random order).
    static func indices(_ values: UnsafePointer<Double>, count: Int, k: Int) -> [Int] {
        let k = min(k, count)
        guard k > 0 else { return [] }
        // Kept sorted best first; `better` is the stated order.
        var top: [Int] = []
        top.reserveCapacity(k + 1)
        @inline(__always) func better(_ x: Int, _ y: Int) -> Bool { values[x] > values[y] || (values[x] == values[y] && x < y) }
        for j in 0..<count {
            if top.count == k {
                // Columns come in increasing order, so a value equal to the worst kept one loses.
                guard values[j] > values[top[k - 1]] else { continue }
                top.removeLast()
            }
            var lo = 0, hi = top.count
            while lo < hi { let mid = (lo + hi) / 2; if better(top[mid], j) { lo = mid + 1 } else { hi = mid } }
            top.insert(j, at: lo)
        }
        return top
    }

    /// Mean of the `k` largest values (k capped at `count`), summed largest first.
    ///
    /// - Complexity: as `indices`.
    static func mean(_ values: UnsafePointer<Double>, count: Int, k: Int) -> Double {
        let top = indices(values, count: count, k: k)
        guard !top.isEmpty else { return .nan }
        var s = 0.0
        for j in top { s += values[j] }
        return s / Double(top.count)
    }
}
