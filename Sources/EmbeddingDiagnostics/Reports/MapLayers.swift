import Foundation

/// What a map chart (`ReportChart.Kind.map`) draws: a binned density of one corpus, points of
/// another coloured by a signed value, and labelled centres. Built by a report from its typed
/// result (binning and sampling happen there, seeded); drawn by `SVGMap`.
public struct MapLayers: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public internal(set) var x: Double
        public internal(set) var y: Double
        /// Signed value of the colour scale (blue < 0 < red).
        public internal(set) var value: Double
        /// Hover text (an SVG `<title>`).
        public internal(set) var title: String
        /// Drawn with a dark outline (e.g. rows outside every reference neighbourhood).
        public internal(set) var outlined: Bool
        public init(x: Double, y: Double, value: Double, title: String, outlined: Bool = false) {
            self.x = x
            self.y = y
            self.value = value
            self.title = title
            self.outlined = outlined
        }
    }

    /// The plotted area in data units.
    public internal(set) var xRange: ClosedRange<Double>
    public internal(set) var yRange: ClosedRange<Double>
    /// Density grid: `gridRows` × `gridColumns` counts, row 0 at the bottom (small y).
    public internal(set) var gridColumns: Int
    public internal(set) var gridRows: Int
    public internal(set) var density: [Int]
    public internal(set) var densityName: String
    public internal(set) var points: [Point]
    public internal(set) var pointsName: String
    /// |value| at which the colour saturates.
    public internal(set) var valueScale: Double
    public internal(set) var valueName: String
    /// Labelled positions (cluster centres).
    public internal(set) var centres: [ChartPoint]

    public init(xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, gridColumns: Int, gridRows: Int, density: [Int], densityName: String,
                points: [Point], pointsName: String, valueScale: Double, valueName: String, centres: [ChartPoint]) {
        precondition(density.count == gridColumns * gridRows)
        self.xRange = xRange
        self.yRange = yRange
        self.gridColumns = gridColumns
        self.gridRows = gridRows
        self.density = density
        self.densityName = densityName
        self.points = points
        self.pointsName = pointsName
        self.valueScale = valueScale
        self.valueName = valueName
        self.centres = centres
    }

    /// Bins `x`, `y` into the grid over the ranges (values on the upper edge go to the last bin).
    /// - Complexity: O(n).
    public static func bin(x: [Double], y: [Double], xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, columns: Int, rows: Int) -> [Int] {
        var grid = [Int](repeating: 0, count: columns * rows)
        let w = xRange.upperBound - xRange.lowerBound, h = yRange.upperBound - yRange.lowerBound
        for i in x.indices where x[i].isFinite && y[i].isFinite {
            let c = w > 0 ? min(columns - 1, max(0, Int((x[i] - xRange.lowerBound) / w * Double(columns)))) : 0
            let r = h > 0 ? min(rows - 1, max(0, Int((y[i] - yRange.lowerBound) / h * Double(rows)))) : 0
            grid[r * columns + c] += 1
        }
        return grid
    }
}
