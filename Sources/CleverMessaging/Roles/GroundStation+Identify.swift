import NIOConcurrencyHelpers
import NIOCore

extension GroundStation {
    /// Asks a new connection for `id` and `clover_dir`, then registers it.
    ///
    /// Both requests are queued together, `id` first, so they leave in one
    /// write and the drone answers both in one read: one round trip per drone
    /// instead of two, and no task or promise per drone (this runs for every
    /// connection of a swarm that connects all at once).
    func identify(_ connection: Connection) {
        let replies = IdentifyReplies()
        do {
            for name in IdentifyReplies.names {
                _ = try connection.startRequest(
                    name,
                    args: [],
                    kwargs: [:],
                    completion: .callback { [self] result in
                        guard let (id, cloverDir) = replies.record(name, result) else { return }
                        identified(connection, id: id, cloverDir: cloverDir)
                    },
                    timeout: identifyTimeout
                )
            }
        } catch {
            logger.warning("could not identify a new connection: \(error)")
        }
    }

    private func identified(_ connection: Connection, id: Result<JSONValue, ConnectionError>, cloverDir: Result<JSONValue, ConnectionError>?) {
        switch id {
        case .failure(let error):
            logger.warning("could not identify a new connection: \(error)")
        case .success(let value):
            guard let id = value.stringValue ?? (value.isNull ? nil : "\(value)") else {
                logger.warning("connection answered a null id; ignored")
                return
            }
            register(id: id, cloverDir: (try? cloverDir?.get())?.stringValue, connection: connection)
        }
    }
}

/// The two answers a new connection gives the ground station.
final class IdentifyReplies: Sendable {
    /// What is asked, in order.
    static let names = ["id", "clover_dir"]

    private let replies = NIOLockedValueBox<[String: Result<JSONValue, ConnectionError>]>([:])

    /// Records one answer; returns both once both are in (the second only if
    /// the first succeeded: a failed `id` fails the identification at once).
    func record(_ name: String, _ result: Result<JSONValue, ConnectionError>) -> (Result<JSONValue, ConnectionError>, Result<JSONValue, ConnectionError>?)? {
        replies.withLockedValue { r in
            r[name] = result
            guard let id = r["id"] else { return nil }
            if case .failure = id {
                // Reported once: when the `id` answer itself arrives.
                guard name == "id" else { return nil }
                return (id, nil)
            }
            guard let cloverDir = r["clover_dir"] else { return nil }
            return (id, cloverDir)
        }
    }
}
