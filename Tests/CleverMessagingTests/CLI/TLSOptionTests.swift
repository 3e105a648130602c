import CleverMessaging
import Foundation
import Testing

/// `clever-msg`'s TLS options: a PEM file that is missing or malformed is one
/// `error:` line and exit code 2, never a trace; options that need others say so.
@Suite("clever-msg: TLS options", .timeLimit(.minutes(1)))
struct TLSOptionTests {
    @Test("serve: a missing certificate file is one error: line and exit code 2")
    func serveMissingPEM() async throws {
        let result = try await CleverMsgBinary.run(["serve", "--port", "0", "--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"])
        #expect(result.status == 2)
        #expect(result.stderr == "error: /nonexistent/cert.pem: cannot read certificate chain: No such file or directory\n")

        let json = try await CleverMsgBinary.run(["serve", "--port", "0", "--json", "--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"])
        #expect(json.status == 2)
        let line = try JSONParser.parse(Array(json.stderr.utf8))
        #expect(line["error"]?["code"] == "invalid_tls_configuration", "\(json.stderr)")
    }

    @Test("serve: a file that is not PEM is one error: line and exit code 2")
    func serveMalformedPEM() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clever-tls-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let junk = directory.appendingPathComponent("junk.pem").path
        try "not a certificate\n".write(toFile: junk, atomically: true, encoding: .utf8)
        let result = try await CleverMsgBinary.run(["serve", "--port", "0", "--tls-cert", junk, "--tls-key", junk])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: \(junk): certificate chain "), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test("drone and swarm: a missing CA file is one error: line and exit code 2")
    func clientMissingPEM() async throws {
        let drone = try await CleverMsgBinary.run(["drone", "--server", "127.0.0.1:9", "--tls-ca", "/nonexistent/ca.pem"])
        #expect(drone.status == 2)
        #expect(drone.stderr == "error: /nonexistent/ca.pem: cannot read trusted CA: No such file or directory\n")
        let swarm = try await CleverMsgBinary.run(["swarm", "--server", "127.0.0.1:9", "--count", "1", "--tls-ca", "/nonexistent/ca.pem"])
        #expect(swarm.status == 2)
        #expect(swarm.stderr == "error: /nonexistent/ca.pem: cannot read trusted CA: No such file or directory\n")
    }

    @Test("options that need others are refused as usage errors")
    func optionsThatNeedOthers() async throws {
        let key = try await CleverMsgBinary.run(["serve", "--port", "0", "--tls-cert", "/x.pem"])
        #expect(key.status != 0)
        #expect(key.stderr.hasPrefix("error: --tls-cert and --tls-key go together"), "\(key.stderr)")
        let plain = try await CleverMsgBinary.run(["serve", "--port", "0", "--plain-port", "0"])
        #expect(plain.stderr.hasPrefix("error: --plain-port needs --tls-cert"), "\(plain.stderr)")
        let cert = try await CleverMsgBinary.run(["drone", "--tls-cert", "/x.pem", "--tls-key", "/y.pem"])
        #expect(cert.stderr.hasPrefix("error: --tls-cert, --tls-key"), "\(cert.stderr)")
    }
}
