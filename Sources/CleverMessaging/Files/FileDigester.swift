// SHA256 is a plain value (its state is inline bytes) that swift-crypto has not
// marked Sendable; a digester is only ever touched by one thread at a time (under
// its owner's lock), and a copy shares nothing.
@preconcurrency import Crypto

/// The running digest of a file's bytes, by the transfer's ``FileChecksum``.
struct FileDigester: Sendable {
    private enum State {
        case sha256(SHA256)
        case xxh64(XXH64)
    }

    private var state: State

    /// An empty digest of `checksum`.
    init(_ checksum: FileChecksum) {
        switch checksum {
        case .sha256: state = .sha256(SHA256())
        case .xxh64: state = .xxh64(XXH64())
        }
    }

    /// The check this digester computes.
    var checksum: FileChecksum {
        switch state {
        case .sha256: .sha256
        case .xxh64: .xxh64
        }
    }

    /// Feeds `bytes`.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha256(hasher)
        case .xxh64(var hasher):
            hasher.update(bytes)
            state = .xxh64(hasher)
        }
    }

    /// The digest of everything fed so far, lowercase hex.
    func hexDigest() -> String {
        switch state {
        case .sha256(let hasher): hexString(hasher.finalize())
        case .xxh64(let hasher): hasher.hexDigest()
        }
    }
}
