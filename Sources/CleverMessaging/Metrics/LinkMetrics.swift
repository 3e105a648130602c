import CoreMetrics
import NIOCore

/// The swift-metrics handles of one role (``CleverMetrics/Role``): what the
/// connections of a server, or of the clients, publish to.
///
/// Made once per ``CleverMetrics`` and role, so that a link never asks the
/// metrics factory for anything. The connections count in plain integers,
/// under the lock or on the event loop they already hold, and publish here in
/// batches: per read batch, per flush, per expiry of request timers, per link
/// opening or closing. Only a request's duration is recorded one by one (it is
/// a histogram), and only when a backend is set up.
package final class LinkMetrics: Sendable {
    /// Links whose handshake passed and that are not down yet (`clever_links_open`).
    let linksOpen: Meter
    /// Links opened so far (`clever_links_opened_total`).
    let linksOpened: Counter
    /// Frames queued for the peers and handed to their links (`clever_frames_sent_total`).
    let framesSent: Counter
    /// Frames received (`clever_frames_received_total`).
    let framesReceived: Counter
    /// Bytes handed to the links, frames only (`clever_bytes_sent_total`).
    let bytesSent: Counter
    /// Bytes read from the links, file bodies included (`clever_bytes_received_total`).
    let bytesReceived: Counter
    /// Requests this side sent (`clever_requests_total`).
    let requests: Counter
    /// From a request's start to its reply (`clever_request_duration_seconds`).
    let requestDuration: CoreMetrics.Timer
    /// Requests failed for their timeout (`clever_request_timeouts_total`).
    let requestTimeouts: Counter
    /// File body bytes written to the links (`clever_file_bytes_total{direction="sent"}`).
    let fileBytesSent: Counter
    /// File body bytes read from the links (`clever_file_bytes_total{direction="received"}`).
    let fileBytesReceived: Counter

    /// The handles of `role`, made with `factory`.
    init(role: CleverMetrics.Role, factory: any MetricsFactory) {
        let role = [("role", role.rawValue)]
        func counter(_ name: String, _ extra: [(String, String)] = []) -> Counter {
            Counter(label: name, dimensions: role + extra, factory: factory)
        }
        linksOpen = Meter(label: CleverMetrics.Name.linksOpen, dimensions: role, factory: factory)
        linksOpened = counter(CleverMetrics.Name.linksOpened)
        framesSent = counter(CleverMetrics.Name.framesSent)
        framesReceived = counter(CleverMetrics.Name.framesReceived)
        bytesSent = counter(CleverMetrics.Name.bytesSent)
        bytesReceived = counter(CleverMetrics.Name.bytesReceived)
        requests = counter(CleverMetrics.Name.requests)
        requestDuration = CoreMetrics.Timer(label: CleverMetrics.Name.requestDuration, dimensions: role, factory: factory)
        requestTimeouts = counter(CleverMetrics.Name.requestTimeouts)
        fileBytesSent = counter(CleverMetrics.Name.fileBytes, [("direction", "sent")])
        fileBytesReceived = counter(CleverMetrics.Name.fileBytes, [("direction", "received")])
    }

    /// A link opened (its handshake passed).
    func linkOpened() {
        linksOpen.increment()
        linksOpened.increment()
    }

    /// A link that had opened went down.
    func linkClosed() {
        linksOpen.decrement()
    }

    /// What a flush handed to a link: `frames` frames (of them `requests` requests) in `bytes` bytes.
    func sent(frames: Int, requests: Int, bytes: Int) {
        if frames > 0 { framesSent.increment(by: Int64(frames)) }
        if requests > 0 { self.requests.increment(by: Int64(requests)) }
        if bytes > 0 { bytesSent.increment(by: Int64(bytes)) }
    }

    /// What a read batch brought: `frames` frames in `bytes` bytes, of which `fileBytes` of file bodies.
    func received(frames: Int, bytes: Int, fileBytes: Int) {
        if frames > 0 { framesReceived.increment(by: Int64(frames)) }
        if bytes > 0 { bytesReceived.increment(by: Int64(bytes)) }
        if fileBytes > 0 { fileBytesReceived.increment(by: Int64(fileBytes)) }
    }

    /// A reply came `elapsed` after its request started.
    func requestAnswered(after elapsed: TimeAmount) {
        requestDuration.recordNanoseconds(max(0, elapsed.nanoseconds))
    }

    /// `count` requests timed out.
    func timedOut(_ count: Int) {
        if count > 0 { requestTimeouts.increment(by: Int64(count)) }
    }

    /// A file body of `bytes` bytes was written to a link (a binary frame:
    /// counted in the frames and bytes sent too, as the receiver counts it).
    func fileSent(bytes: Int64) {
        framesSent.increment()
        guard bytes > 0 else { return }
        fileBytesSent.increment(by: bytes)
        bytesSent.increment(by: bytes)
    }
}
