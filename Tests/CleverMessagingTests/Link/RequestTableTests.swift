import Testing

@testable import CleverMessaging

@Suite("Request table")
struct RequestTableTests {
    /// A small deterministic generator, so that a failure repeats.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Whether `table` holds exactly what `model` does.
    static func check(_ table: RequestTable<Int>, _ model: [Int: Int], probes: [Int]) -> Bool {
        guard table.count == model.count, table.isEmpty == model.isEmpty else { return false }
        let elements = table.elements
        guard elements.count == model.count, Set(elements.map(\.number)).count == model.count else { return false }
        for (number, value) in elements where model[number] != value { return false }
        for number in probes where table[number] != model[number] { return false }
        // Read in place, the same values as by subscript.
        for number in probes where table.withValue(number, { $0 + 0 }) != model[number] { return false }
        return true
    }

    @Test("behaves as a dictionary under in-order, out-of-order, stuck and stray numbers")
    func matchesDictionary() {
        for seed in 0..<8 {
            var generator = Generator(state: UInt64(seed))
            var table = RequestTable<Int>()
            var model: [Int: Int] = [:]
            var next = generator.next(3) == 0 ? Int.max - 20_000 : 1
            var outstanding: [Int] = []
            for step in 0..<30_000 {
                switch generator.next(10) {
                case 0...4:
                    // The next number, as a connection hands them out.
                    table.insert(step, for: next)
                    model[next] = step
                    outstanding.append(next)
                    next = next == Int.max ? 1 : next + 1
                case 5...7:
                    // Settle one, mostly among the oldest.
                    guard !outstanding.isEmpty else { continue }
                    let pick = generator.next(4) == 0 ? generator.next(outstanding.count) : min(outstanding.count - 1, generator.next(3))
                    let number = outstanding.remove(at: pick)
                    #expect(table.removeValue(forKey: number) == model.removeValue(forKey: number))
                case 8:
                    // A stray number: far away, negative, or one used before.
                    let number = [-5, 0, Int.min, Int.max, next &+ 10_000, next &- 50_000, generator.next(1000)][generator.next(7)]
                    if generator.next(2) == 0 {
                        table[number] = step
                        model[number] = step
                        if !outstanding.contains(number) { outstanding.append(number) }
                    } else {
                        #expect(table.removeValue(forKey: number) == model.removeValue(forKey: number))
                        outstanding.removeAll { $0 == number }
                    }
                default:
                    // Replace the value of one in flight.
                    guard !outstanding.isEmpty else { continue }
                    let number = outstanding[generator.next(outstanding.count)]
                    table[number] = -step
                    model[number] = -step
                }
                if step % 997 == 0 {
                    let probes = Array(outstanding.prefix(50)) + [next, next &- 1, -5, 0, Int.min, Int.max]
                    #expect(Self.check(table, model, probes: probes), "seed \(seed) step \(step)")
                }
            }
            #expect(Self.check(table, model, probes: outstanding))
            for number in outstanding { #expect(table.removeValue(forKey: number) == model.removeValue(forKey: number)) }
            #expect(table.isEmpty)
            table.insert(1, for: 7)
            table.removeAll()
            #expect(table.isEmpty && table[7] == nil)
        }
    }

    @Test("one request never answered does not keep the window growing")
    func stuckEntryMovesOut() {
        var table = RequestTable<Int>()
        table.insert(0, for: 1)
        for number in 2..<100_000 {
            table.insert(number, for: number)
            #expect(table.removeValue(forKey: number) == number)
        }
        #expect(table.count == 1)
        #expect(table.windowLength <= 4097)
        #expect(table[1] == 0)
        #expect(table.elements.map(\.number) == [1])
    }
}
