import Crypto
import Foundation
import SwiftASN1
import X509

/// A throwaway certificate authority, made in-process: a CA and the server and
/// client certificates it signs (P-256 keys), as PEM text. For `bench swarm
/// --tls` and tests; never for a real show (the keys live in memory and in
/// whatever temporary files they are written to).
public struct ThrowawayCertificates: Sendable {
    /// One certificate and its private key, in PEM.
    public struct Issued: Sendable, Hashable {
        /// The certificate, in PEM.
        public var certificatePEM: String
        /// Its private key (PKCS#8), in PEM.
        public var privateKeyPEM: String
    }

    /// The CA's certificate, in PEM (what clients trust).
    public let caPEM: String
    private let caKey: Certificate.PrivateKey
    private let caName: DistinguishedName

    /// A new CA.
    /// - Parameter name: the CA's common name.
    /// - Throws: an error of swift-certificates when the certificate cannot be made.
    public init(name: String = "clever-msg throwaway CA") throws {
        let key = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(7 * 86400),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        self.caPEM = try certificate.serializeAsPEM().pemString
        self.caKey = Certificate.PrivateKey(key)
        self.caName = caName
    }

    /// A server certificate signed by this CA.
    /// - Parameters:
    ///   - commonName: its subject's CN.
    ///   - ipAddresses: its IP SANs, as four bytes each (default: 127.0.0.1).
    ///   - dnsNames: its DNS SANs (default: `localhost`).
    /// - Returns: the certificate and its key.
    /// - Throws: an error of swift-certificates.
    public func server(commonName: String = "ground station", ipAddresses: [[UInt8]] = [[127, 0, 0, 1]], dnsNames: [String] = ["localhost"]) throws -> Issued {
        let names = ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) } + dnsNames.map { GeneralName.dnsName($0) }
        return try issue(commonName: commonName, usage: .serverAuth, names: names)
    }

    /// A client certificate signed by this CA (a drone's, for mutual TLS).
    /// - Parameter commonName: its subject's CN (the drone's id, for a station that takes it from there).
    /// - Returns: the certificate and its key.
    /// - Throws: an error of swift-certificates.
    public func client(commonName: String) throws -> Issued {
        try issue(commonName: commonName, usage: .clientAuth, names: [])
    }

    private func issue(commonName: String, usage: ExtendedKeyUsage.Usage, names: [GeneralName]) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(7 * 86400),
            issuer: caName,
            subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: caKey
        )
        return Issued(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// Writes the CA and a server certificate for 127.0.0.1 to PEM files in a new
    /// temporary directory (for a swarm in another process to trust the CA).
    /// - Returns: the directory and the files' paths.
    /// - Throws: a file error or an error of swift-certificates.
    public func writeServerFiles() throws -> (directory: String, ca: String, certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clever-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = try server()
        let ca = directory + "/ca.pem", certificate = directory + "/server.pem", key = directory + "/server-key.pem"
        try caPEM.write(toFile: ca, atomically: true, encoding: .utf8)
        try server.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        try server.privateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        return (directory, ca, certificate, key)
    }
}
