import CleverMessaging
import Logging
import NIOCore
import Testing

/// A ground station over TLS: mutual TLS, the drone's id from its
/// certificate, and a plain listener beside the TLS one.
@Suite("Security: TLS ground station", .timeLimit(.minutes(1)))
struct TLSStationTests {
    /// A station with `tls` (and a plain listener when `plainToo`) until `body` returns;
    /// `body` gets the TLS port, the plain port (or 0) and what the station logs.
    static func withStation(
        tls: TLSOptions, plainToo: Bool = false, _ body: (GroundStation, _ tlsPort: Int, _ plainPort: Int, LogMessages) async throws -> Void
    ) async throws {
        let log = LogMessages()
        // TLS handshakes of a debug build on a loaded parallel run can take seconds: these tests are about who gets in.
        let station = GroundStation(
            host: "127.0.0.1", port: 0, configuration: ConnectionConfiguration(handshakeTimeout: .seconds(30)),
            identifyTimeout: .seconds(30), logger: log.logger("station"), tls: tls, additionalListeners: plainToo ? [MessagingServer.Listener(host: "127.0.0.1", port: 0)] : []
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let ports = try await station.server.localAddresses().map { $0.port! }
            do {
                try await body(station, ports[0], ports.count > 1 ? ports[1] : 0, log)
            } catch {
                station.shutdown()
                throw error
            }
            station.shutdown()
            try await group.waitForAll()
        }
    }

    /// A drone answering `id`, over TLS when `tls` is set.
    static func drone(_ id: String, port: Int, tls: TLSOptions?) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("clover_dir") { _, _, _ in .string("/home/pi") }
        return MessagingClient(
            host: "127.0.0.1", port: port, registry: registry, configuration: ConnectionConfiguration(handshakeTimeout: .seconds(30)), reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)), tls: tls
        )
    }

    /// Runs `drones` until `body` returns.
    static func flying(_ drones: [MessagingClient], _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for drone in drones { group.addTask { try await drone.run() } }
            do {
                try await body()
            } catch {
                for drone in drones { drone.shutdown() }
                throw error
            }
            for drone in drones { drone.shutdown() }
            try await group.waitForAll()
        }
    }

    @Test("mutual TLS: a drone whose certificate another CA signed is refused, and one without a certificate too; a good one gets in")
    func foreignClientCertificate() async throws {
        let pki = try TestPKI()
        let stranger = try pki.other.client(commonName: "drone-1")
        let good = try pki.ca.client(commonName: "drone-2")
        try await Self.withStation(tls: try pki.serverTLS(clientCA: pki.ca)) { station, port, _, log in
            let foreign = Self.drone("drone-1", port: port, tls: try pki.clientTLS(certificate: stranger))
            try await Self.flying([foreign]) {
                let line = await log.first(startingWith: "link closed: handshake stage \"tls\" failed (tls_failed)", containing: "not signed by a trusted CA")
                #expect(line != nil, "\(log.messages.value)")
            }
            let anonymous = Self.drone("drone-3", port: port, tls: try pki.clientTLS())
            try await Self.flying([anonymous]) {
                let line = await log.first(startingWith: "link closed: handshake stage \"tls\" failed (tls_failed)", containing: "a client certificate is required")
                #expect(line != nil, "\(log.messages.value)")
            }
            let drone = Self.drone("drone-2", port: port, tls: try pki.clientTLS(certificate: good))
            try await Self.flying([drone]) {
                try await station.waitForDrones(1, timeout: .seconds(30))
            }
            #expect(station.drones.map(\.id) == ["drone-2"])
        }
    }

    @Test("id from the certificate's common name: the drone whose answer is its CN gets in under it; one answering another id is refused")
    func idFromCommonName() async throws {
        let pki = try TestPKI()
        let seven = try pki.ca.client(commonName: "drone-7")
        let eight = try pki.ca.client(commonName: "drone-8")
        try await Self.withStation(tls: try pki.serverTLS(clientCA: pki.ca, idFromCommonName: true)) { station, port, _, log in
            let honest = Self.drone("drone-7", port: port, tls: try pki.clientTLS(certificate: seven))
            let impostor = Self.drone("drone-7", port: port, tls: try pki.clientTLS(certificate: eight))
            try await Self.flying([honest, impostor]) {
                try await station.waitForDrones(1, timeout: .seconds(30))
                let line = await log.first(startingWith: "link closed: handshake stage \"identify\" failed (rejected)")
                #expect(line?.hasSuffix("the drone answered id \"drone-7\" but its certificate names \"drone-8\"") == true, "\(log.messages.value)")
                #expect(station.drones.map(\.id) == ["drone-7"])
                let connection = try #require(station.connection(for: "drone-7"))
                #expect(connection.handshakeResult(TLSPeer.self) == TLSPeer(commonName: "drone-7", idFromCommonName: true))
            }
        }
    }

    @Test("a TLS port and a plain port side by side feed one station")
    func plainAndTLSListeners() async throws {
        let pki = try TestPKI()
        try await Self.withStation(tls: try pki.serverTLS(), plainToo: true) { station, tlsPort, plainPort, _ in
            #expect(station.server.listeners.map { $0.tls != nil } == [true, false])
            let secure = Self.drone("secure", port: tlsPort, tls: try pki.clientTLS())
            let plain = Self.drone("plain", port: plainPort, tls: nil)
            try await Self.flying([secure, plain]) {
                try await station.waitForDrones(2, timeout: .seconds(30))
                let answers = await station.requestAll("id", as: String.self)
                #expect(answers.succeeded.sorted() == ["plain", "secure"])
            }
        }
    }
}
