import NIOCore

/// The table of requests waiting for a reply, as a pure state machine.
///
/// It decides; ``Connection`` acts: every mutating call returns what must be
/// completed, failed or written, so the logic is testable without a network.
struct PendingRequests {
    /// How a waiting caller is told the outcome.
    enum Completion: Sendable {
        /// An `async` caller waiting on a promise.
        case promise(EventLoopPromise<JSONValue>)
        /// A callback (the seed's `get_response` form).
        case callback(@Sendable (Result<JSONValue, ConnectionError>) -> Void)

        /// Delivers `result`.
        func complete(_ result: Result<JSONValue, ConnectionError>) {
            switch self {
            case .promise(let promise): promise.completeWith(result.mapError { $0 as any Error })
            case .callback(let callback): callback(result)
            }
        }
    }

    /// One waiting request.
    struct Entry {
        var requestedValue: String
        var args: [JSONValue]
        var kwargs: JSONObject
        var completion: Completion
        var timeout: Scheduled<Void>?
        /// Handed to a link at least once.
        var written: Bool
        /// Sent again after a reconnect (the reference resends once).
        var resent: Bool = false
        /// Whether a new link may carry it again (false for file acknowledgements,
        /// which are not requests this side sent).
        var resendable: Bool = true
        /// For a file pull: where the received file goes, and who wants progress.
        var fileDestination: String? = nil
        var progress: FileTransferProgressHandler? = nil

        /// Cancels the timer and delivers `result`.
        func finish(_ result: Result<JSONValue, ConnectionError>) {
            timeout?.cancel()
            completion.complete(result)
        }
    }

    /// What to do with a response frame.
    enum ResponseAction {
        /// Deliver to this entry.
        case deliver(Entry)
        /// Nobody waits for it (unknown id, or a different requested value): log and drop.
        case unexpected(String)
    }

    private(set) var entries: OrderedDictionary<String, Entry> = [:]

    var count: Int { entries.count }

    mutating func add(id: String, entry: Entry) {
        entries[id] = entry
    }

    mutating func setTimeout(id: String, _ timeout: Scheduled<Void>) -> Bool {
        guard entries[id] != nil else { return false }
        entries[id]!.timeout = timeout
        return true
    }

    mutating func setResendable(id: String, _ resendable: Bool) {
        entries[id]?.resendable = resendable
    }

    mutating func remove(id: String) -> Entry? {
        entries.removeValue(forKey: id)
    }

    /// Matches a response by id **and** requested value.
    mutating func receiveResponse(id: JSONValue?, requestedValue: String?) -> ResponseAction {
        guard case .string(let key)? = id else { return .unexpected("response with request_id \(id.map { "\($0)" } ?? "missing")") }
        guard let entry = entries[key] else { return .unexpected("response to unknown request \(key)") }
        guard entry.requestedValue == requestedValue else {
            return .unexpected("response to \(key) names \"\(requestedValue ?? "nothing")\", expected \"\(entry.requestedValue)\"")
        }
        entries.removeValue(forKey: key)
        return .deliver(entry)
    }

    /// The pull waiting for a file response with this id: where to write it.
    /// Its timer stops: from the first byte on, the transfer runs until it ends or the link drops.
    mutating func fileDownload(id: JSONValue?) -> (destination: String, progress: FileTransferProgressHandler?)? {
        guard case .string(let key)? = id, let entry = entries[key], entry.requestedValue == Frame.fileTransferAction,
            let destination = entry.fileDestination
        else { return nil }
        entries[key]!.timeout?.cancel()
        entries[key]!.timeout = nil
        return (destination, entry.progress)
    }

    /// A link came up: the requests to write on it, in the order they were made.
    /// Never-written requests always go; written ones go again once when `resend` is on.
    mutating func linkUp(resend: Bool) -> [(id: String, entry: Entry)] {
        var out: [(String, Entry)] = []
        for index in entries.values.indices {
            var entry = entries.values[index]
            if !entry.resendable {
                continue
            } else if !entry.written {
                entry.written = true
            } else if resend && !entry.resent {
                entry.resent = true
            } else {
                continue
            }
            entries.values[index] = entry
            out.append((entries.keys[index], entry))
        }
        return out
    }

    /// A link went down: the requests that fail now. With `keepForResend`,
    /// requests not yet resent stay to be sent again on the next link.
    mutating func linkDown(keepForResend: Bool) -> [Entry] {
        var failed: [Entry] = []
        var kept: OrderedDictionary<String, Entry> = [:]
        for (id, entry) in entries {
            if keepForResend && entry.resendable && (!entry.resent || !entry.written) {
                kept[id] = entry
            } else {
                failed.append(entry)
            }
        }
        entries = kept
        return failed
    }

    /// Removes every entry (the connection closed for good).
    mutating func removeAll() -> [Entry] {
        let all = Array(entries.values)
        entries.removeAll()
        return all
    }
}
