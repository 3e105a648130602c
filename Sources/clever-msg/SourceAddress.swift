import ArgumentParser

/// `--source ADDRESS`: the loopback address a simulated drone dials from.
///
/// The reference ground station keys drones by source IP alone, so every
/// simulated drone on one machine needs its own address. Linux routes all of
/// 127.0.0.0/8 to the loopback interface, so any of them works without setup;
/// a swarm gives drone number `n` (from 0) the address `n` above the first.
struct SourceAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address as a 32-bit number (`127.0.0.0` is `0x7F00_0000`).
    let value: UInt32

    /// The first and last usable addresses of 127.0.0.0/8 (the network and
    /// broadcast addresses are not a host's).
    static let usable: ClosedRange<UInt32> = 0x7F00_0001...0x7FFF_FFFE

    /// Parses a dotted IPv4 address inside 127.0.0.0/8.
    /// - Parameters:
    ///   - text: the address, such as `127.0.1.1`.
    ///   - option: the option's name, for the error.
    /// - Throws: a `ValidationError` naming the option when it is not such an address.
    init(_ text: String, option: String = "--source") throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let octets = parts.compactMap { part -> UInt32? in
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let n = UInt32(part), n <= 255 else { return nil }
            return n
        }
        guard parts.count == 4, octets.count == 4 else {
            throw ValidationError("\(option) \(text): expected a dotted IPv4 loopback address such as 127.0.1.1")
        }
        let value = octets.reduce(0) { $0 << 8 | $1 }
        guard Self.usable.contains(value) else {
            throw ValidationError("\(option) \(text): the address must be inside 127.0.0.0/8 (a loopback address, 127.0.0.1 to 127.255.255.254)")
        }
        self.value = value
    }

    private init(value: UInt32) {
        self.value = value
    }

    /// The address `offset` above this one.
    /// - Parameters:
    ///   - offset: how far above (0: this address).
    ///   - option: the option's name, for the error.
    /// - Throws: a `ValidationError` when that address leaves 127.0.0.0/8.
    func advanced(by offset: Int, option: String = "--source") throws -> SourceAddress {
        let last = UInt64(value) + UInt64(max(0, offset))
        guard offset >= 0, last <= UInt64(Self.usable.upperBound) else {
            throw ValidationError(
                "\(option) \(self): \(offset + 1) drones need addresses up to \(Self.describe(UInt32(truncatingIfNeeded: last))), beyond 127.255.255.254 (start lower)"
            )
        }
        return SourceAddress(value: UInt32(last))
    }

    /// The dotted form.
    var description: String { Self.describe(value) }

    private static func describe(_ value: UInt32) -> String {
        "\(value >> 24 & 0xFF).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}
