import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension TLSOptions {
    /// Where a PEM comes from: a file (named in errors) or text.
    enum PEMSource {
        case file(String)
        case text(String)

        /// The file's path, for errors (`nil` for text).
        var file: String? {
            if case .file(let path) = self { return path }
            return nil
        }

        /// The PEM's bytes.
        func bytes(_ what: String) throws(MessagingError) -> [UInt8] {
            switch self {
            case .text(let text): return Array(text.utf8)
            case .file(let path): return try Self.readFile(path, what: what)
            }
        }

        /// The most bytes a PEM file may have (a chain of a few certificates is a few KiB).
        static let maximumFileSize = 1 << 20

        /// Reads a whole (small) file.
        private static func readFile(_ path: String, what: String) throws(MessagingError) -> [UInt8] {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                throw .invalidTLSConfiguration(file: path, reason: "cannot read \(what): \(LogFormat.systemError(errno))")
            }
            defer { close(fd) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw .invalidTLSConfiguration(file: path, reason: "cannot read \(what): \(LogFormat.systemError(errno))")
                }
                if count == 0 { break }
                bytes.append(contentsOf: chunk[..<count])
                guard bytes.count <= maximumFileSize else {
                    throw .invalidTLSConfiguration(file: path, reason: "\(what) is larger than \(maximumFileSize) bytes: not a PEM file")
                }
            }
            return bytes
        }
    }

    /// Parses one or more certificates.
    static func certificates(_ source: PEMSource, what: String) throws(MessagingError) -> [NIOSSLCertificate] {
        let bytes = try source.bytes(what)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw .invalidTLSConfiguration(file: source.file, reason: "\(what) is not a PEM certificate")
        }
        guard !certificates.isEmpty else {
            throw .invalidTLSConfiguration(file: source.file, reason: "\(what) holds no PEM certificate")
        }
        return certificates
    }

    /// Parses a private key.
    static func privateKey(_ source: PEMSource, what: String) throws(MessagingError) -> NIOSSLPrivateKey {
        let bytes = try source.bytes(what)
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw .invalidTLSConfiguration(file: source.file, reason: "\(what) is not a PEM private key")
        }
    }

    /// Builds the context of `configuration`.
    private static func context(_ configuration: TLSConfiguration, file: String?) throws(MessagingError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            // Mostly a key that does not belong to the certificate.
            throw .invalidTLSConfiguration(file: file, reason: "cannot use the certificate and key: \(error)")
        }
    }

    static func makeServer(chain: PEMSource, key: PEMSource, clientCA: PEMSource?, idFromCommonName: Bool) throws(MessagingError) -> TLSOptions {
        if idFromCommonName, clientCA == nil {
            throw .invalidTLSConfiguration(file: nil, reason: "taking the id from the certificate's common name needs a client CA (mutual TLS)")
        }
        let chainCertificates = try certificates(chain, what: "certificate chain")
        let serverKey = try privateKey(key, what: "private key")
        var configuration: TLSConfiguration
        if let clientCA {
            let roots = try Self.certificates(clientCA, what: "client CA")
            configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
                certificateChain: chainCertificates.map { .certificate($0) },
                privateKey: .privateKey(serverKey),
                trustRoots: .certificates(roots)
            )
            // The client's certificate is checked against the CA; a drone has no host name to check.
            configuration.certificateVerification = .noHostnameVerification
        } else {
            configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chainCertificates.map { .certificate($0) },
                privateKey: .privateKey(serverKey)
            )
        }
        configuration.minimumTLSVersion = .tlsv12
        let serverContext = try context(configuration, file: key.file)
        return TLSOptions(role: .server, context: serverContext, requiresClientCertificate: clientCA != nil, idFromCommonName: idFromCommonName)
    }

    static func makeClient(
        trusted: PEMSource, chain: PEMSource?, key: PEMSource?, serverHostname: String?, verifyHostname: Bool
    ) throws(MessagingError) -> TLSOptions {
        guard (chain == nil) == (key == nil) else {
            throw .invalidTLSConfiguration(file: nil, reason: "a client certificate needs its private key, and a key its certificate")
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try certificates(trusted, what: "trusted CA"))
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
        if let chain, let key {
            configuration.certificateChain = try certificates(chain, what: "client certificate").map { .certificate($0) }
            configuration.privateKey = .privateKey(try privateKey(key, what: "client private key"))
        }
        let clientContext = try context(configuration, file: key?.file)
        return TLSOptions(role: .client, context: clientContext, serverHostname: serverHostname, verifyHostname: verifyHostname)
    }
}
