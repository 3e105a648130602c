import CleverMessaging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The workloads of `clever-msg bench messages` and `bench requests`, on one
/// loopback pair that stays up between runs: the allocation-counting
/// benchmarks of the `Benchmarks/` package measure them, and the pair's setup
/// stays outside what they count.
public final class LoopbackWorkload: Sendable {
    private let serverGroup: MultiThreadedEventLoopGroup
    private let clientGroup: MultiThreadedEventLoopGroup
    private let pair: MessagingPair
    private let arrivals: ArrivalCount

    private init(serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup, pair: MessagingPair, arrivals: ArrivalCount) {
        self.serverGroup = serverGroup
        self.clientGroup = clientGroup
        self.pair = pair
        self.arrivals = arrivals
    }

    /// Starts a server (answering `echo` with its arguments, counting `start`
    /// actions) and a client linked to it, each on its own event loop.
    /// - Returns: the workload, ready.
    public static func start() async throws -> LoopbackWorkload {
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let arrivals = ArrivalCount(loop: serverGroup.next())
        let registry = HandlerRegistry()
        registry.onRequest("echo") { _, args, _ in .array(args) }
        registry.onAction("start") { _, _, _ in arrivals.arrived() }
        registry.onAction("move", decoding: Bench.Typed.Move.self) { _, _ in arrivals.arrived() }
        registry.onAction("move_tree") { _, _, kwargs in
            _ = try JSONValueDecoder().decode(Bench.Typed.Move.self, from: .object(kwargs))
            arrivals.arrived()
        }
        registry.onRequest("move", decoding: Bench.Typed.Move.self) { _, move in move }
        registry.onRequest("move_tree") { _, _, kwargs in
            try JSONValueEncoder().encode(JSONValueDecoder().decode(Bench.Typed.Move.self, from: .object(kwargs)))
        }
        let pair = try await MessagingPair.start(serverRegistry: registry, serverGroup: serverGroup, clientGroup: clientGroup)
        return LoopbackWorkload(serverGroup: serverGroup, clientGroup: clientGroup, pair: pair, arrivals: arrivals)
    }

    /// Sends `count` actions like the reference's `send_message('start', args=(1, 'two', 3.5, None, True), kwargs={'time': …})`
    /// without waiting for each, and returns once the server handled them all.
    public func oneWayActions(_ count: Int) async throws {
        let done = arrivals.expect(count)
        try await Bench.Messages.sendActions(count: count, on: pair.client.connection)
        try await done.get()
    }

    /// Sends `count` `echo` requests at once and returns when every reply came back.
    /// - Throws: an error naming how many replies were lost or did not match their request.
    public func pipelinedRequests(_ count: Int) async throws {
        let (_, lost, misrouted) = try await Bench.Requests.pipelined(connection: pair.client.connection, count: count)
        if lost + misrouted > 0 { throw BenchError("\(lost) requests lost, \(misrouted) misrouted") }
    }

    /// Sends `count` `echo` requests one after the other, each awaited.
    public func sequentialRequests(_ count: Int) async throws {
        for i in 0..<count {
            _ = try await pair.client.connection.request("echo", args: [.integer(i)])
        }
    }

    /// Sends `count` actions whose arguments are a `Codable` struct, to a
    /// handler that decodes them: straight to and from the frames' text
    /// (`throughTrees`: through `JSONValue` trees on both sides, as the typed
    /// API did before), and returns once the server handled them all.
    public func typedActions(_ count: Int, throughTrees: Bool = false) async throws {
        let done = arrivals.expect(count)
        try await Bench.Typed.sendActions(count: count, throughTrees: throughTrees, on: pair.client.connection)
        try await done.get()
    }

    /// Asks `count` requests whose arguments and reply are a `Codable` struct,
    /// 64 at a time: straight to and from the frames' text where the API does
    /// it (`throughTrees`: through `JSONValue` trees on both sides).
    public func typedRequests(_ count: Int, throughTrees: Bool = false) async throws {
        try await Bench.Typed.ask(count: count, throughTrees: throughTrees, on: pair.client.connection)
    }

    /// Stops the pair and its event loops.
    public func stop() async throws {
        try await pair.stop()
        try await serverGroup.shutdownGracefully()
        try await clientGroup.shutdownGracefully()
    }
}

/// Counts the `start` actions the workload's server handled, and completes a
/// run's promise when its count is reached.
private final class ArrivalCount: Sendable {
    private let loop: any EventLoop
    private let state = NIOLockedValueBox((arrived: 0, wanted: 0, done: EventLoopPromise<Void>?.none))

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Starts a run of `count` actions.
    func expect(_ count: Int) -> EventLoopFuture<Void> {
        let done = loop.makePromise(of: Void.self)
        state.withLockedValue { $0 = (0, count, done) }
        return done.futureResult
    }

    /// One action arrived.
    func arrived() {
        let done = state.withLockedValue { s -> EventLoopPromise<Void>? in
            s.arrived += 1
            guard s.arrived == s.wanted else { return nil }
            defer { s.done = nil }
            return s.done
        }
        done?.succeed()
    }
}
