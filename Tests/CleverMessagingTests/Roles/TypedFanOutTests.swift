import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import CleverMessaging

/// Requests asked of many links at once whose replies decode into a type:
/// each reply is decoded from its text, without a ``JSONValue`` tree, and
/// Encodable arguments are encoded once, straight into text.
@Suite("Request all: typed replies straight from the text", .timeLimit(.minutes(1)))
struct TypedFanOutTests {
    struct Pose: Codable, Sendable, Equatable {
        var name: String
        var x: Double
        var path: [Double]
    }

    /// A reply type that records which decoder made it.
    struct Probe: Decodable, Sendable {
        var decoder: String
        var pose: Pose

        init(from decoder: any Decoder) throws {
            self.decoder = String(describing: type(of: decoder))
            self.pose = try Pose(from: decoder)
        }
    }

    /// A reply that `pose` answers does not decode as.
    struct WrongPose: Decodable, Sendable {
        var name: Int
    }

    /// Arguments that record which encoder wrote them.
    struct Arguments: Encodable, Sendable {
        let encoders: NIOLockedValueBox<[String]>
        var height: Double
        var name: String

        enum CodingKeys: String, CodingKey { case height, name }

        func encode(to encoder: any Encoder) throws {
            encoders.withLockedValue { $0.append(String(describing: type(of: encoder))) }
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(height, forKey: .height)
            try container.encode(name, forKey: .name)
        }
    }

    /// The keyword arguments `echo` answers with.
    struct Echoed: Decodable, Sendable, Equatable {
        var height: Double
        var name: String
    }

    static func pose(_ id: String) -> JSONValue {
        ["name": .string(id), "x": 1.5, "path": [0.1, -2, 1e300]]
    }

    /// A drone answering `pose` and `echo` (its keyword arguments), or neither.
    static func drone(_ id: String, port: Int, answers: Bool) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("clover_dir") { _, _, _ in "/home/pi" }
        if answers {
            registry.onRequest("pose") { _, _, _ in Self.pose(id) }
            registry.onRequest("echo") { _, _, kwargs in .object(kwargs) }
        }
        return MessagingClient(host: "127.0.0.1", port: port, registry: registry, reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)))
    }

    /// Runs drones "a" and "b" (answering) and "c" (answering nothing) against a station until `body` returns.
    static func withDrones(_ body: (GroundStation) async throws -> Void) async throws {
        try await GroundStationTests.withStation { station, port in
            let clients = [("a", true), ("b", true), ("c", false)].map { Self.drone($0.0, port: port, answers: $0.1) }
            let runs = clients.map { client in Task { try await client.run() } }
            try await station.waitForDrones(3, timeout: .seconds(30))
            try await body(station)
            for client in clients { client.shutdown() }
            for run in runs { try await run.value }
        }
    }

    /// The typed replies the station's link to `id` decoded, from text and from values, and those waiting.
    static func counts(_ station: GroundStation, _ id: String) -> (text: Int, value: Int, waiting: Int) {
        guard let replies = station.connection(for: id)?.typedReplies else { return (-1, -1, -1) }
        return (replies.decodedFromText, replies.decodedFromValue, replies.waiting)
    }

    @Test("the station's typed request-all decodes each reply from its text; errors keep their codes and reasons")
    func stationTyped() async throws {
        try await Self.withDrones { station in
            let results = await station.requestAll("pose", as: Probe.self, timeout: .seconds(10))
            try #require(results.map(\.droneID) == ["a", "b", "c"])
            for (index, id) in ["a", "b"].enumerated() {
                let probe = try results[index].result.get()
                #expect(probe.decoder == "JSONTextDecoderImplementation")
                #expect(probe.pose == Pose(name: id, x: 1.5, path: [0.1, -2, 1e300]))
                #expect(results[index].skipReason == nil)
                #expect(Self.counts(station, id) == (1, 0, 0))
            }
            guard case .failure(.remote(let remote)) = results[2].result else {
                Issue.record("expected the drone's error, got \(results[2].result)")
                return
            }
            #expect(remote.code == RemoteError.Code.unknownRequest)
            #expect(results[2].skipReason == .remoteError)
            #expect(Self.counts(station, "c").waiting == 0)

            // A reply that does not decode: the same error as decoding its value, and the same reason as before (failed).
            let wrong = await station.requestAll("pose", from: ["b", "a"], as: WrongPose.self, timeout: .seconds(10))
            try #require(wrong.map(\.droneID) == ["b", "a"])
            for (element, id) in zip(wrong, ["b", "a"]) {
                var expected: MessagingError?
                do throws(MessagingError) { _ = try MessageArguments.decode(Self.pose(id), as: WrongPose.self, name: "pose") } catch { expected = error }
                #expect(element.result.failureError == expected)
                #expect(element.result.failureError?.code == .decoding)
                #expect(element.skipReason == .failed)
                #expect(Self.counts(station, id) == (2, 0, 0))
            }
        }
    }

    @Test("Encodable arguments of a request-all are encoded once into text; JSONValue replies stay values")
    func stationArgumentsAndValues() async throws {
        try await Self.withDrones { station in
            let encoders = NIOLockedValueBox<[String]>([])
            let arguments = Arguments(encoders: encoders, height: 2.5, name: "caf\u{E9} \u{1F681}")
            let echoed = try await station.requestAll("echo", arguments: arguments, from: ["a", "b"], as: Echoed.self, timeout: .seconds(10))
            #expect(echoed.map { $0.result.successValue } == [Echoed(height: 2.5, name: "caf\u{E9} \u{1F681}"), Echoed(height: 2.5, name: "caf\u{E9} \u{1F681}")])
            #expect(encoders.withLockedValue { $0 } == ["JSONTextEncoderImplementation"])
            // Arguments that are no object fail as before: nothing is asked.
            await #expect(throws: MessagingError.decoding("arguments of echo must encode to a JSON object")) {
                _ = try await station.requestAll("echo", arguments: [1, 2], as: Echoed.self)
            }
            // JSONValue replies take the plain fan-out: built as values, none counted as typed.
            let before = Self.counts(station, "a")
            let values = await station.requestAll("pose", as: JSONValue.self, timeout: .seconds(10))
            #expect(values.map { $0.result.successValue } == [Self.pose("a"), Self.pose("b"), nil])
            #expect(Self.counts(station, "a") == before)
            // JSONValue replies to encoded arguments: decoded from the text as the values they are.
            let plain = try await station.requestAll("echo", arguments: arguments, from: ["a"], as: JSONValue.self, timeout: .seconds(10))
            #expect(plain.first?.result.successValue == ["height": 2.5, "name": "caf\u{E9} \u{1F681}"])
        }
    }

    @Test("the server's request-all: typed replies from the text, encoded arguments, JSONValue results as before")
    func serverForms() async throws {
        try await Self.withDrones { station in
            let server = station.server
            let connections = ["a", "b"].compactMap { station.connection(for: $0) }
            try #require(connections.count == 2)
            let typed = await server.requestAll("pose", as: Probe.self, timeout: .seconds(10), connections: connections)
            #expect(typed.map(\.connection.number) == connections.map(\.number))
            #expect(typed.map { $0.result.successValue?.decoder } == ["JSONTextDecoderImplementation", "JSONTextDecoderImplementation"])
            #expect(typed.map { $0.result.successValue?.pose.name } == ["a", "b"])

            let encoders = NIOLockedValueBox<[String]>([])
            let arguments = Arguments(encoders: encoders, height: -0.5, name: "n")
            let echoed = try await server.requestAll("echo", arguments: arguments, as: Echoed.self, timeout: .seconds(10), connections: connections)
            #expect(echoed.map { $0.result.successValue } == [Echoed(height: -0.5, name: "n"), Echoed(height: -0.5, name: "n")])
            let values = try await server.requestAll("echo", arguments: arguments, timeout: .seconds(10), connections: connections)
            #expect(values.map { $0.result.successValue } == [["height": -0.5, "name": "n"], ["height": -0.5, "name": "n"]])
            #expect(encoders.withLockedValue { $0 } == ["JSONTextEncoderImplementation", "JSONTextEncoderImplementation"])
            await #expect(throws: MessagingError.decoding("arguments of echo must encode to a JSON object or array")) {
                _ = try await server.requestAll("echo", arguments: "text", as: Echoed.self, connections: connections)
            }
            for connection in connections {
                #expect(connection.typedReplies.decodedFromText == 2)
                #expect(connection.typedReplies.decodedFromValue == 0)
                #expect(connection.typedReplies.waiting == 0)
            }
        }
    }
}

extension Result {
    /// The value, if a success.
    fileprivate var successValue: Success? { try? get() }

    /// The error, if a failure.
    fileprivate var failureError: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
