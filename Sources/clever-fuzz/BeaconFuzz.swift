import CleverMessaging
import NIOCore

/// A discovery datagram through ``BeaconVerifier``: without a key (the
/// reference's beacon parser), and with a key at a fixed instant, so that the
/// signed beacons of the seed corpus (signed with ``key`` at ``now``) verify
/// and their mutations reach every branch after the signature check.
enum BeaconFuzz {
    /// The key of the seed corpus's signed beacons: the UTF-8 bytes of `"fuzz-key"`.
    static let key = try! DiscoveryKey(text: "fuzz-key")
    /// The instant of the seed corpus's signed beacons: 1700000000 s after the epoch.
    static let now = 1_700_000_000.0

    static let plain = BeaconVerifier(codec: FuzzHarness.configuration)
    static let signed = BeaconVerifier(key: key, codec: FuzzHarness.configuration)

    static func run(_ input: UnsafeRawBufferPointer) {
        let datagram = ByteBuffer(bytes: input)
        let unsigned = plain.verify(datagram, now: now)
        let verified = signed.verify(datagram, now: now)
        // A beacon the key accepts is one the reference's parser accepts, with the same content.
        if case .success(let announcement) = verified {
            guard case .success(let same) = unsigned, same == announcement else {
                preconditionFailure("a signed beacon was accepted that the unsigned parser refuses")
            }
            // Re-signing it gives a datagram that verifies too.
            guard let again = try? BeaconVerifier.signedDatagram(announcement, key: key, at: now),
                case .success(let back) = signed.verify(again, now: now), back == announcement
            else { preconditionFailure("a re-signed beacon does not verify") }
        }
    }
}
