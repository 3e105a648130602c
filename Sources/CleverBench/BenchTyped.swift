import ArgumentParser
import CleverMessaging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

extension Bench {
    /// `clever-msg bench typed`: actions and requests with `Codable` arguments,
    /// encoded and decoded straight between the types and the frames' text,
    /// against the same calls through `JSONValue` trees.
    struct Typed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Typed (Codable) actions and requests over loopback: straight to and from the text vs through JSONValue trees.",
            discussion: """
                A MessagingClient sends --count actions whose arguments are a Codable \
                struct (a position, a speed, a frame name and a list of three floats) to \
                a MessagingServer whose handler decodes them into the same struct; then \
                asks --requests requests with such arguments, 64 at a time, whose \
                handler answers with the decoded struct. The typed API encodes \
                straight into the frame and decodes straight from it; the tree \
                variant does what the typed API did before: JSONValueEncoder to a \
                JSONValue tree, then the frame, and JSONValueDecoder from the parsed \
                tree. The two variants alternate for --rounds rounds, on the same \
                pair (acknowledged delivery off: actions go plainly, as in bench \
                messages); CPU time per message is that of the run that used least.
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "Actions per run.")
        var count: Int = 300_000

        @Option(help: "Requests per run.")
        var requests: Int = 50_000

        @Option(help: "Alternating rounds of the two variants.")
        var rounds: Int = 3

        @Option(help: "Run only one measurement, without warm-up (e.g. to count its allocations under valgrind).")
        var only: Variant?

        /// The four measurements.
        enum Variant: String, ExpressibleByArgument, CaseIterable {
            case actionsTree = "actions-tree"
            case actionsTyped = "actions-typed"
            case requestsTree = "requests-tree"
            case requestsTyped = "requests-typed"

            /// The name its results are printed under.
            var label: String { String(rawValue.map { $0 == "-" ? " " : $0 }) }
        }

        func validate() throws {
            guard count > 0, requests > 0, rounds > 0 else { throw ValidationError("--count, --requests and --rounds must be positive") }
        }

        /// Queues `count` `move` actions on `connection` (handled by a server
        /// that decodes them), at most two batches of 8192 ahead of the socket.
        static func sendActions(count: Int, throughTrees: Bool, on connection: Connection) async throws {
            var checkpoint: SendReceipt?
            for i in 0..<count {
                let receipt: SendReceipt
                if throughTrees {
                    guard case .object(let kwargs) = try JSONValueEncoder().encode(move) else { throw BenchError("not an object") }
                    receipt = try connection.enqueueMessage("move_tree", kwargs: kwargs)
                } else {
                    receipt = try connection.enqueueMessage("move", arguments: move)
                }
                if i % 8192 == 8191 {
                    try await checkpoint?.written()
                    checkpoint = receipt
                }
            }
        }

        /// Asks `count` `move` requests on `connection`, 64 at a time, and checks every reply.
        static func ask(count: Int, throughTrees: Bool, on connection: Connection) async throws {
            let lanes = 64
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<lanes {
                    group.addTask {
                        for _ in stride(from: lane, to: count, by: lanes) {
                            let reply: Move
                            if throughTrees {
                                guard case .object(let kwargs) = try JSONValueEncoder().encode(move) else { throw BenchError("not an object") }
                                let value = try await connection.request("move_tree", kwargs: kwargs)
                                reply = try JSONValueDecoder().decode(Move.self, from: value)
                            } else {
                                reply = try await connection.request("move", arguments: move, as: Move.self)
                            }
                            guard reply == move else { throw BenchError("a reply differs from its request") }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        /// The measured arguments.
        struct Move: Codable, Sendable, Equatable {
            var x: Double
            var y: Double
            var z: Double
            var speed: Double
            var frame: String
            var yaw: [Double]
        }

        static let move = Move(x: 1.25, y: -3.5, z: 2, speed: 0.75, frame: "aruco_map", yaw: [0.1, 1.5707963267948966, 3.14])

        func run() async throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let received = NIOLockedValueBox((count: 0, wanted: 0, done: EventLoopPromise<Void>?.none))
            @Sendable func arrived() {
                let done = received.withLockedValue { s -> EventLoopPromise<Void>? in
                    s.count += 1
                    guard s.count == s.wanted else { return nil }
                    defer { s.done = nil }
                    return s.done
                }
                done?.succeed()
            }
            let registry = HandlerRegistry()
            registry.onAction("move", decoding: Move.self) { _, move in
                precondition(move.frame == "aruco_map")
                arrived()
            }
            registry.onAction("move_tree") { _, _, kwargs in
                let move = try JSONValueDecoder().decode(Move.self, from: .object(kwargs))
                precondition(move.frame == "aruco_map")
                arrived()
            }
            registry.onRequest("move", decoding: Move.self) { _, move in move }
            registry.onRequest("move_tree") { _, _, kwargs in
                try JSONValueEncoder().encode(JSONValueDecoder().decode(Move.self, from: .object(kwargs)))
            }
            // Plain actions, as `bench messages` sends them: a burst faster than acknowledgements come
            // back would fill the resend window of acknowledged delivery, which is not what is measured here.
            var configuration = ConnectionConfiguration()
            configuration.delivery.isEnabled = false
            let pair = try await MessagingPair.start(
                serverRegistry: registry, serverGroup: serverGroup, clientGroup: clientGroup, configuration: configuration)
            let connection = pair.client.connection
            let server = serverGroup.next()
            let client = connection.eventLoop

            func actions(typed: Bool, count: Int) async throws -> (Double, CPUTime.Split) {
                let done = server.makePromise(of: Void.self)
                received.withLockedValue { $0 = (0, count, done) }
                return try await Messages.measure(count: count, server: server, client: client) {
                    try await Self.sendActions(count: count, throughTrees: !typed, on: connection)
                    try await done.futureResult.get()
                }
            }

            func asks(typed: Bool, count: Int) async throws -> (Double, CPUTime.Split) {
                try await Messages.measure(count: count, server: server, client: client) {
                    try await Self.ask(count: count, throughTrees: !typed, on: connection)
                }
            }

            func measure(_ variant: Variant) async throws -> (Double, CPUTime.Split) {
                switch variant {
                case .actionsTree: return try await actions(typed: false, count: count)
                case .actionsTyped: return try await actions(typed: true, count: count)
                case .requestsTree: return try await asks(typed: false, count: requests)
                case .requestsTyped: return try await asks(typed: true, count: requests)
                }
            }
            var best: [String: Messages.Best] = [:]
            if let only {
                for _ in 0..<rounds { best[only.label, default: .init()].add(try await measure(only)) }
            } else {
                // Warm-up of every path.
                _ = try await actions(typed: true, count: 10_000)
                _ = try await actions(typed: false, count: 10_000)
                _ = try await asks(typed: true, count: 2_000)
                _ = try await asks(typed: false, count: 2_000)
                for _ in 0..<rounds {
                    for variant in Variant.allCases { best[variant.label, default: .init()].add(try await measure(variant)) }
                }
            }
            try await pair.stop()
            try await serverGroup.shutdownGracefully()
            try await clientGroup.shutdownGracefully()

            var frame = ByteBuffer()
            try FrameWriter().writeAction("move", arguments: .encoded(EncodedArguments(Self.move, of: "move")), into: &frame)
            reporter.note("action frame: \(frame.readableBytes) bytes; \(count) actions, \(requests) requests per run; best of \(rounds) alternating rounds")
            for (key, per) in [("actions tree", count), ("actions typed", count), ("requests tree", requests), ("requests typed", requests)] {
                if let cpu = best[key]?.leastCPU { reporter.note(cpu.note(per: per, what: "\(key.hasPrefix("actions") ? "action" : "request") (\(key))")) }
            }
            for kind in ["actions", "requests"] {
                guard let tree = best["\(kind) tree"]?.rate, let typed = best["\(kind) typed"]?.rate else { continue }
                reporter.report(
                    Measurement(name: "typed.\(kind)", value: typed, unit: "\(kind)/s", baseline: tree,
                                label: "typed \(kind) (baseline: through JSONValue trees)")
                )
            }
        }
    }
}
