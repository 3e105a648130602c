import CleverTestSupport
import NIOConcurrencyHelpers
import Testing

@testable import CleverMessaging

/// The ledger the receipts of acknowledged actions wait on: a cumulative
/// number read without a lock, waiters settled as it passes them, and the
/// end of the session failing the rest.
@Suite("DeliveryLedger", .timeLimit(.minutes(1)))
struct DeliveryLedgerTests {
    @Test("the number only rises, and a receipt at or below it returns at once")
    func cumulative() async throws {
        let ledger = DeliveryLedger()
        ledger.acknowledge(through: 5)
        ledger.acknowledge(through: 3)
        #expect(ledger.acknowledged == 5)
        try await ledger.waitForAcknowledgement(of: 5)
        try await ledger.waitForAcknowledgement(of: 1)
    }

    @Test("waiters are settled as the number passes them, and the others keep waiting")
    func waiters() async throws {
        let ledger = DeliveryLedger()
        let done = NIOLockedValueBox<[UInt64]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sequence in [UInt64(2), 4, 6] {
                group.addTask {
                    try await ledger.waitForAcknowledgement(of: sequence)
                    done.withLockedValue { $0.append(sequence) }
                }
            }
            // Settled through 4, whenever each waiter registered: only 6 may still wait.
            ledger.acknowledge(through: 4)
            try await group.next()
            try await group.next()
            #expect(Set(done.withLockedValue { $0 }) == [2, 4])
            ledger.acknowledge(through: 6)
            try await group.next()
        }
        #expect(done.withLockedValue { $0.count } == 3)
    }

    @Test("the end of the session fails what was not acknowledged; a later acknowledgement moves nothing")
    func failure() async throws {
        let ledger = DeliveryLedger()
        ledger.acknowledge(through: 3)
        await withTaskGroup(of: MessagingError?.self) { group in
            group.addTask {
                do throws(MessagingError) {
                    try await ledger.waitForAcknowledgement(of: 9)
                    return nil
                } catch {
                    return error
                }
            }
            ledger.fail(.connectionLost)
            #expect(await group.next() == .some(.connectionLost))
        }
        ledger.acknowledge(through: 9)
        #expect(ledger.acknowledged == 3)
        try await ledger.waitForAcknowledgement(of: 3)
        await #expect(throws: MessagingError.connectionLost) { try await ledger.waitForAcknowledgement(of: 4) }
        // Failing again changes nothing.
        ledger.fail(.closed)
        await #expect(throws: MessagingError.connectionLost) { try await ledger.waitForAcknowledgement(of: 4) }
    }

    @Test("waiters racing acknowledgements from another thread are all settled", arguments: [1, 2, 3] as [UInt64])
    func racing(seed: UInt64) async throws {
        var random = SeededRNG(seed: seed)
        let ledger = DeliveryLedger()
        let last: UInt64 = 2_000
        let sequences = (0..<300).map { _ in UInt64.random(in: 1...last, using: &random) }
        let steps = (0..<400).map { _ in UInt64.random(in: 1...8, using: &random) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sequence in sequences {
                group.addTask { try await ledger.waitForAcknowledgement(of: sequence) }
            }
            group.addTask {
                // Acknowledgements in small steps, interleaved with the waiters registering.
                var through: UInt64 = 0
                for step in steps {
                    through = min(last, through + step)
                    ledger.acknowledge(through: through)
                    await Task.yield()
                }
                ledger.acknowledge(through: last)
            }
            try await group.waitForAll()
        }
        #expect(ledger.acknowledged == last)
    }
}
