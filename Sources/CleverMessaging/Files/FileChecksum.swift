/// The integrity check of a file transfer: which digest the sender computes as
/// it sends and the receiver checks before the file replaces its destination.
///
/// A reference peer always gets (and sends) ``sha256``, in the header of the
/// file's frame, as the reference does. Two peers of this library agree on the
/// check before each transfer: ``xxh64`` when both
/// sides' ``ConnectionConfiguration/fileChecksum`` ask for it (the default),
/// ``sha256`` otherwise.
public enum FileChecksum: String, Sendable, Hashable, CaseIterable {
    /// SHA-256, lowercase hex: what reference peers send and check, and what
    /// peers of this library use when either side asks for it.
    case sha256
    /// The 64-bit xxHash (seed 0), 16 lowercase hex digits: several times
    /// faster than SHA-256 and as good against accidental damage as any 64-bit
    /// check, but no cryptographic hash (a peer that lies on purpose could send
    /// other bytes and their SHA-256 as well). Only between peers of this library.
    case xxh64

    /// The header key under which the digest travels: `sha256` in a file's
    /// header or its trailer (`x-clever-sha256-trailer`), `xxh64` in a trailer.
    var headerKey: String { rawValue }
}
