import Testing

@testable import CleverMessaging

/// The priority queue behind request deadlines.
@Suite("DeadlineQueue")
struct DeadlineQueueTests {
    /// Drains `queue`, returning its items in the order they come out.
    static func drain(_ queue: inout DeadlineQueue<Int>) -> [Int] {
        var out: [Int] = []
        while let least = queue.min {
            out.append(least)
            queue.removeMin()
        }
        return out
    }

    @Test("items come out least first, whatever order they went in")
    func leastFirst() {
        var generator = SystemRandomNumberGenerator()
        for trial in 0..<200 {
            var queue = DeadlineQueue<Int>()
            var items: [Int] = []
            var clock = 0
            for _ in 0..<(trial % 50 + 1) {
                // Mostly increasing (one timeout), sometimes below the last (a shorter one), sometimes equal.
                clock += Int.random(in: 0...3, using: &generator)
                let item = Int.random(in: 0..<4, using: &generator) == 0 ? clock - Int.random(in: 0...20, using: &generator) : clock
                items.append(item)
                queue.insert(item)
            }
            #expect(queue.count == items.count)
            #expect(Self.drain(&queue) == items.sorted())
            #expect(queue.count == 0)
            queue.removeMin()  // empty: nothing happens
            #expect(queue.min == nil)
        }
    }

    @Test("removal interleaved with insertion, and filtering, keep the order")
    func interleavedAndFiltered() {
        var queue = DeadlineQueue<Int>()
        var model: [Int] = []
        for i in 0..<1000 {
            let item = i % 7 == 0 ? i - 50 : i
            queue.insert(item)
            model.append(item)
            if i % 3 == 0 {
                model.sort()
                #expect(queue.min == model.first)
                queue.removeMin()
                model.removeFirst()
            }
        }
        queue.filter { $0 % 2 == 0 }
        model = model.filter { $0 % 2 == 0 }.sorted()
        #expect(queue.count == model.count)
        #expect(Self.drain(&queue) == model)
    }
}
