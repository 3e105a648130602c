import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A client's connection and its connection to the target, with a forwarder each way.
final class FaultProxyPair: Sendable {
    private let upstream: NIOLoopBound<FaultProxyForwarder>
    private let downstream: NIOLoopBound<FaultProxyForwarder>
    private let eventLoop: any EventLoop
    private let client: any Channel
    private let target: any Channel
    private let counts = NIOLockedValueBox((upstream: 0, downstream: 0))

    private init(client: any Channel, target: any Channel, upstream: FaultProxyForwarder, downstream: FaultProxyForwarder) {
        self.client = client
        self.target = target
        self.eventLoop = client.eventLoop
        self.upstream = NIOLoopBound(upstream, eventLoop: client.eventLoop)
        self.downstream = NIOLoopBound(downstream, eventLoop: client.eventLoop)
    }

    /// Wires the two channels together (on their shared event loop) and starts reading both.
    static func wire(client: any Channel, target: any Channel, settings: NIOLockedValueBox<FaultProxySettings>) throws -> FaultProxyPair {
        let up = FaultProxyForwarder(direction: .upstream, source: client, destination: target, settings: settings)
        let down = FaultProxyForwarder(direction: .downstream, source: target, destination: client, settings: settings)
        let pair = FaultProxyPair(client: client, target: target, upstream: up, downstream: down)
        up.counted = { [counts = pair.counts] n in counts.withLockedValue { $0.upstream += n } }
        down.counted = { [counts = pair.counts] n in counts.withLockedValue { $0.downstream += n } }
        try client.pipeline.syncOperations.addHandler(FaultProxySide(reading: up, writing: down))
        try target.pipeline.syncOperations.addHandler(FaultProxySide(reading: down, writing: up))
        up.readIfRoom()
        down.readIfRoom()
        return pair
    }

    /// The bytes forwarded each way.
    var forwarded: (upstream: Int, downstream: Int) { counts.withLockedValue { $0 } }

    /// Applies changed settings.
    func kick() {
        eventLoop.execute { [upstream, downstream] in
            upstream.value.pump()
            downstream.value.pump()
        }
    }

    /// Closes both connections.
    func close() {
        client.close(promise: nil)
        target.close(promise: nil)
    }
}
