/// Values by request number, for numbers handed out in increasing order
/// and mostly settled in about that order, as a connection's requests are.
///
/// The numbers from the oldest unsettled one on sit in an array indexed by
/// their distance from it (the window), so adding the next number appends
/// and settling one clears its slot: no hashing, and neighbours in memory.
/// Numbers outside the window (added out of order, or still unsettled when
/// the window became mostly empty slots) live in a dictionary, so a request
/// that is never answered cannot make the window grow without bound.
package struct RequestTable<Value> {
    /// `slots[i]` holds the value of number `base + i`; those before `head` are empty.
    private var slots: [Value?] = []
    private var head = 0
    private var base = 0
    /// The values in `slots`.
    private var windowCount = 0
    /// Values whose numbers are outside `base + head ..< base + slots.count`
    /// (never a number inside that range).
    private var others: [Int: Value] = [:]

    /// A window this long with fewer than one value in `sparseRatio` slots moves them to `others`.
    private static var sparseWindow: Int { 4096 }
    private static var sparseRatio: Int { 8 }

    /// An empty table.
    package init() {}

    /// The number of values.
    package var count: Int { windowCount + others.count }

    /// Whether there are none.
    package var isEmpty: Bool { count == 0 }

    /// The slots from the oldest value in the window to its end (for tests).
    package var windowLength: Int { slots.count - head }

    /// Where `number` is in `slots`, if inside the window.
    @inline(__always)
    private func slot(_ number: Int) -> Int? {
        let (i, overflow) = number.subtractingReportingOverflow(base)
        return !overflow && i >= head && i < slots.count ? i : nil
    }

    /// The value of `number`; setting `nil` removes it.
    package subscript(number: Int) -> Value? {
        get {
            if let i = slot(number) { return slots[i] }
            return others.isEmpty ? nil : others[number]
        }
        set {
            if let newValue {
                insert(newValue, for: number)
            } else {
                _ = removeValue(forKey: number)
            }
        }
    }

    /// What `body` makes of the value for `number`, read in place (without
    /// a copy of the value); `nil` when there is none.
    @inline(__always)
    package func withValue<R>(_ number: Int, _ body: (borrowing Value) -> R) -> R? {
        if let i = slot(number) {
            switch slots[i] {
            case .some(let value): return body(value)
            case .none: return nil
            }
        }
        guard !others.isEmpty else { return nil }
        switch others[number] {
        case .some(let value): return body(value)
        case .none: return nil
        }
    }

    /// Adds or replaces the value of `number`.
    package mutating func insert(_ value: consuming Value, for number: Int) {
        if let i = slot(number) {
            if slots[i] == nil { windowCount += 1 }
            slots[i] = value
            return
        }
        if windowCount == 0 {
            // A new window starts at this number.
            slots.removeAll(keepingCapacity: true)
            head = 0
            base = number
        }
        let (next, overflow) = base.addingReportingOverflow(slots.count)
        guard !overflow, number == next else {
            others[number] = value
            return
        }
        // The window grows by this number, which must then leave `others`.
        if !others.isEmpty { others.removeValue(forKey: number) }
        slots.append(value)
        windowCount += 1
    }

    /// Removes and returns the value of `number`.
    @discardableResult
    package mutating func removeValue(forKey number: Int) -> Value? {
        guard let i = slot(number) else { return others.isEmpty ? nil : others.removeValue(forKey: number) }
        guard let value = slots[i].take() else { return nil }
        windowCount -= 1
        if i == head {
            while head < slots.count, slots[head] == nil { head += 1 }
        }
        tidy()
        return value
    }

    /// Keeps the window short: drops its empty front, and moves the values of
    /// a window that is mostly empty slots to `others`.
    private mutating func tidy() {
        if windowCount == 0 {
            slots.removeAll(keepingCapacity: true)
            head = 0
            return
        }
        let span = slots.count - head
        if span > Self.sparseWindow, windowCount * Self.sparseRatio < span {
            for i in head..<slots.count {
                if let value = slots[i] { others[base + i] = value }
            }
            slots = []
            head = 0
            windowCount = 0
            return
        }
        if head > 1024, head * 2 > slots.count {
            slots.removeFirst(head)
            base += head
            head = 0
        }
    }

    /// Every number and its value: the window's in increasing order, then the others.
    package var elements: [(number: Int, value: Value)] {
        var out: [(number: Int, value: Value)] = []
        out.reserveCapacity(count)
        for i in head..<slots.count {
            if let value = slots[i] { out.append((base + i, value)) }
        }
        for (number, value) in others { out.append((number, value)) }
        return out
    }

    /// Removes every value.
    package mutating func removeAll() {
        slots = []
        head = 0
        windowCount = 0
        others = [:]
    }
}

extension RequestTable: Sendable where Value: Sendable {}
