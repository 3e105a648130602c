/// Rows of text cells laid out in aligned columns: every column but the last
/// is padded to its widest cell, columns are separated by two spaces, and no
/// line ends in spaces.
struct TextTable: Sendable, Hashable {
    /// The rows, each a list of cells; a row may have fewer cells than another.
    var rows: [[String]]

    /// Creates a table.
    /// - Parameter rows: the rows of cells.
    init(_ rows: [[String]] = []) {
        self.rows = rows
    }

    /// The width of each column: its widest cell, in characters.
    var columnWidths: [Int] {
        var widths: [Int] = []
        for row in rows {
            for (column, cell) in row.enumerated() {
                if column == widths.count { widths.append(0) }
                widths[column] = max(widths[column], cell.count)
            }
        }
        return widths
    }

    /// The table as lines of text, one per row.
    var lines: [String] {
        let widths = columnWidths
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                if column > 0 { line += "  " }
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count) }
            }
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}
