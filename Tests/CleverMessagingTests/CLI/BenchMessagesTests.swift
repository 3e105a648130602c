import CleverMessaging
import Foundation
import Testing

/// `clever-msg bench messages` end to end with few messages: every
/// measurement runs to the end and carries the raw baseline of its run
/// (no timing is asserted).
@Suite("CLI: bench messages", .timeLimit(.minutes(2)))
struct BenchMessagesTests {
    @Test("bench messages --count 500 --json: end to end, receiver alone and sender alone, each with the raw baseline")
    func fewMessages() async throws {
        let result = try await CleverMsgBinary.run(["bench", "messages", "--count", "500", "--json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let byName = result.measurements
        #expect(Set(byName.keys) == ["messages.one_way", "messages.one_way.receiver", "messages.one_way.sender"])
        for (name, line) in byName {
            #expect((line["value"]?.doubleValue ?? 0) > 0, "\(name) measured nothing: \(line)")
            #expect((line["baseline"]?.doubleValue ?? 0) > 0, "\(name) has no raw baseline: \(line)")
            #expect(line["ratio"] != nil)
        }
    }
}
