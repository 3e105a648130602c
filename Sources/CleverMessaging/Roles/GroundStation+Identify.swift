import Logging
import NIOConcurrencyHelpers
import NIOCore

extension GroundStation {
    /// Asks a new connection for `id` and `clover_dir`, then registers it.
    /// Runs in the link's task.
    ///
    /// Both requests are queued together, `id` first, so they leave in one
    /// write and the drone answers both in one read: one round trip per drone
    /// instead of two (this runs for every connection of a swarm that connects
    /// all at once).
    func identify(_ connection: Connection) async {
        let timeout = identifyTimeout
        let (id, cloverDir) = await withCheckedContinuation { (continuation: CheckedContinuation<IdentifyReplies.Answers, Never>) in
            let replies = IdentifyReplies(continuation)
            for name in IdentifyReplies.names {
                do throws(MessagingError) {
                    try connection.getResponse(
                        name,
                        timeout: timeout,
                        onError: { replies.record(name, .failure($0)) },
                        callback: { _, value, _, _ in replies.record(name, .success(value)) }
                    )
                } catch {
                    replies.record(name, .failure(error))
                }
            }
        }
        switch id {
        case .failure(let error):
            // A link that drops before it answers is normal; one that does not answer in time is not.
            var level = Logger.Level.debug
            if case .timedOut = error { level = .warning }
            logger.log(level: level, "could not identify a new connection: \(error)", metadata: ["connection": "\(connection.number)"])
        case .success(let value):
            guard let id = value.stringValue ?? (value.isNull ? nil : "\(value)") else {
                logger.warning("connection answered a null id; ignored", metadata: ["connection": "\(connection.number)"])
                return
            }
            register(id: id, cloverDir: (try? cloverDir?.get())?.stringValue, connection: connection)
        }
    }
}

/// The two answers a new connection gives the ground station.
final class IdentifyReplies: Sendable {
    typealias Answers = (id: Result<JSONValue, MessagingError>, cloverDir: Result<JSONValue, MessagingError>?)

    /// What is asked, in order.
    static let names = ["id", "clover_dir"]

    private let replies: NIOLockedValueBox<(answers: [String: Result<JSONValue, MessagingError>], waiter: CheckedContinuation<Answers, Never>?)>

    init(_ waiter: CheckedContinuation<Answers, Never>) {
        replies = NIOLockedValueBox(([:], waiter))
    }

    /// Records one answer; resumes the waiter once both are in (or at once with
    /// a failed `id`: the identification has failed).
    func record(_ name: String, _ result: Result<JSONValue, MessagingError>) {
        let done = replies.withLockedValue { r -> (CheckedContinuation<Answers, Never>, Answers)? in
            r.answers[name] = result
            guard let waiter = r.waiter, let id = r.answers["id"] else { return nil }
            if case .failure = id {
                r.waiter = nil
                return (waiter, (id, nil))
            }
            guard let cloverDir = r.answers["clover_dir"] else { return nil }
            r.waiter = nil
            return (waiter, (id, cloverDir))
        }
        if let (waiter, answers) = done { waiter.resume(returning: answers) }
    }
}
