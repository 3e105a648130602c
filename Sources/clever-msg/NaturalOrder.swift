/// Orders text the way people count: runs of digits compare as numbers, so
/// `copter-2` comes before `copter-10`, and `copter-10` before `copter-100`.
///
/// Other characters compare by their Unicode scalars; when two texts differ
/// only in leading zeros (`copter-7`, `copter-007`), the shorter comes first,
/// so the order is total and stable across runs.
enum NaturalOrder {
    /// Whether `a` comes before `b`.
    /// - Parameters:
    ///   - a: a text.
    ///   - b: another text.
    /// - Returns: `true` when `a` sorts before `b`.
    static func areInIncreasingOrder(_ a: String, _ b: String) -> Bool {
        compare(a, b) < 0
    }

    /// Compares two texts: negative when `a` comes first, 0 when equal, positive when `b` comes first.
    /// - Parameters:
    ///   - a: a text.
    ///   - b: another text.
    /// - Returns: the sign of the comparison.
    static func compare(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        var i = 0
        var j = 0
        var zeros = 0  // which side had more leading zeros in the first number that differed only in them
        while i < x.count, j < y.count {
            if isDigit(x[i]), isDigit(y[j]) {
                let (endX, startX) = number(x, from: i)
                let (endY, startY) = number(y, from: j)
                let lengthX = endX - startX
                let lengthY = endY - startY
                if lengthX != lengthY { return lengthX < lengthY ? -1 : 1 }
                for k in 0..<lengthX where x[startX + k] != y[startY + k] {
                    return x[startX + k].value < y[startY + k].value ? -1 : 1
                }
                if zeros == 0, startX - i != startY - j { zeros = startX - i < startY - j ? -1 : 1 }
                i = endX
                j = endY
            } else {
                if x[i] != y[j] { return x[i].value < y[j].value ? -1 : 1 }
                i += 1
                j += 1
            }
        }
        if i < x.count { return 1 }
        if j < y.count { return -1 }
        return zeros
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }

    /// The end of the digit run starting at `start`, and where its significant digits begin.
    private static func number(_ scalars: [Unicode.Scalar], from start: Int) -> (end: Int, significant: Int) {
        var end = start
        while end < scalars.count, isDigit(scalars[end]) { end += 1 }
        var significant = start
        while significant < end - 1, scalars[significant] == "0" { significant += 1 }
        return (end, significant)
    }
}
