import ArgumentParser
import CleverMessaging
import Foundation

/// `serve`'s TLS options: a TLS listener, a client CA for mutual TLS, a plain listener beside it.
struct ServerTLSArguments: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve TLS with this certificate chain (PEM); --port is then the TLS port.", valueName: "PEM"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The private key of --tls-cert (PEM).", valueName: "PEM"))
    var key: String?

    @Option(name: .customLong("tls-client-ca"), help: ArgumentHelp("Require every drone to present a client certificate signed by this CA (PEM): mutual TLS.", valueName: "PEM"))
    var clientCA: String?

    @Flag(name: .customLong("tls-id-from-cn"), help: "With --tls-client-ca: a drone's id is its certificate's common name; a drone answering another id is refused.")
    var idFromCommonName = false

    @Option(name: .customLong("plain-port"), help: ArgumentHelp("Also listen without TLS on this port (for reference drones), beside the TLS --port.", valueName: "PORT"))
    var plainPort: Int?

    /// Whether TLS was asked for.
    var isEnabled: Bool { certificate != nil }

    func validate() throws {
        guard (certificate == nil) == (key == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if certificate == nil {
            if clientCA != nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
            if plainPort != nil { throw ValidationError("--plain-port needs --tls-cert and --tls-key (without them --port is plain already)") }
        }
        if idFromCommonName, clientCA == nil { throw ValidationError("--tls-id-from-cn needs --tls-client-ca") }
        if let plainPort { try checkPort(plainPort, in: PortRange.listening, option: "--plain-port") }
    }

    /// The server's TLS options, or `nil` when none were asked for.
    /// - Throws: `ExitCode(2)` after one `error:` line, for a missing or malformed PEM file.
    func load() throws -> TLSOptions? {
        guard let certificate, let key else { return nil }
        return try TLSArguments.load {
            () throws(MessagingError) in
            try TLSOptions.server(fromPEMFiles: certificate, privateKeyFile: key, clientCAFile: clientCA, idFromCommonName: idFromCommonName)
        }
    }
}

/// `drone`'s and `swarm`'s TLS options: the CA to trust, and a client certificate for mutual TLS.
struct ClientTLSArguments: ParsableArguments {
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("Connect with TLS, trusting the station's certificate when this CA (PEM) signed it.", valueName: "PEM"))
    var trustedCA: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("With --tls-ca: present this client certificate (PEM), for a station that requires one.", valueName: "PEM"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The private key of --tls-cert (PEM).", valueName: "PEM"))
    var key: String?

    @Option(name: .customLong("tls-server-name"), help: ArgumentHelp("Check the station's certificate against this name instead of the host connected to.", valueName: "NAME"))
    var serverName: String?

    @Flag(name: .customLong("tls-no-hostname-verification"), help: "Check the station's certificate chain but not the name or IP address it is for.")
    var noHostnameVerification = false

    func validate() throws {
        guard (certificate == nil) == (key == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if trustedCA == nil, certificate != nil || serverName != nil || noHostnameVerification {
            throw ValidationError("--tls-cert, --tls-key, --tls-server-name and --tls-no-hostname-verification need --tls-ca")
        }
    }

    /// The client's TLS options, or `nil` when none were asked for.
    /// - Throws: `ExitCode(2)` after one `error:` line, for a missing or malformed PEM file.
    func load() throws -> TLSOptions? {
        guard let trustedCA else { return nil }
        return try TLSArguments.load {
            () throws(MessagingError) in
            try TLSOptions.client(
                fromPEMFiles: trustedCA, certificateChainFile: certificate, privateKeyFile: key,
                serverHostname: serverName, verifyHostname: !noHostnameVerification
            )
        }
    }
}

/// Loading TLS options for a command.
enum TLSArguments {
    /// Runs `make`; its error is printed as one `error:` line (a JSON object
    /// with `--json`, see ``ErrorReport``) and the command exits with code 2.
    static func load(_ make: () throws(MessagingError) -> TLSOptions) throws -> TLSOptions {
        do {
            return try make()
        } catch {
            let report = ErrorReport(error)
            let line = CommandLine.arguments.contains("--json") ? JSONValue.object(report.json).description : report.text
            FileHandle.standardError.write(Data((line + "\n").utf8))
            throw ExitCode(2)
        }
    }
}

extension ServerTLSArguments {
    /// Says which listener is TLS (and which is plain), after the station's first `listening` line.
    func reportListeners(of server: MessagingServer, out: LinePrinter) async throws {
        let addresses = try await server.localAddresses()
        for (listener, address) in zip(server.listeners, addresses) {
            let where_ = "\(listener.host):\(address.port ?? listener.port)"
            if let tls = listener.tls {
                out.print(
                    ["tls": .string(where_), "client_certificates": .bool(tls.requiresClientCertificate), "id_from_cn": .bool(tls.idFromCommonName)],
                    text: "TLS on \(where_)" + (tls.requiresClientCertificate ? ", client certificates required" : "") + (tls.idFromCommonName ? ", id from common name" : "")
                )
            } else {
                out.print(["plain": .string(where_)], text: "plain (no TLS) on \(where_), for reference drones")
            }
        }
    }
}
