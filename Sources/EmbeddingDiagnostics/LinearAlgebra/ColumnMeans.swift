import COpenBLAS
import Foundation

extension Matrix {
    /// Mean of every column, accumulated in Float64.
    public static func columnMeans(_ m: Matrix) -> [Double] {
        var sums = [Double](repeating: 0, count: m.cols)
        guard m.rows > 0 else { return sums }
        let ones = Matrix(rows: 1, cols: Matrix.blockRowsFor(cols: m.cols))
        ones.mutablePointer.update(repeating: 1, count: ones.cols)
        // Column sums of each row block by GEMV in Float32, accumulated across blocks in Float64.
        var partial = [Float](repeating: 0, count: m.cols)
        var start = 0
        while start < m.rows {
            let end = min(m.rows, start + ones.cols)
            let block = m.rows(start..<end)
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(block.rows), Int32(m.cols), 1, block.pointer,
                        Int32(m.cols), ones.pointer, 1, 0, &partial, 1)
            for j in 0..<m.cols { sums[j] += Double(partial[j]) }
            start = end
        }
        let n = Double(m.rows)
        return sums.map { $0 / n }
    }

    /// Sum of all rows, accumulated in Float64.
    public static func columnSums(_ m: Matrix) -> [Double] {
        Matrix.columnMeans(m).map { $0 * Double(m.rows) }
    }
}
