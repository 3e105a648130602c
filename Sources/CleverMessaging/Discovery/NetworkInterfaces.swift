#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The IPv4 address of this computer, as the reference's `get_ip_address` returns it:
/// the first non-loopback IPv4 address of an interface that is up, in the
/// order `getifaddrs` lists them, or `"localhost"` when there is none.
///
/// Unlike the reference (which "connects" a UDP socket to find the route),
/// it only reads the interface list: no socket is opened, no packet is sent.
/// - Returns: a dotted IPv4 address such as `"192.168.1.10"`, or `"localhost"`.
public func localIPAddress() -> String {
    NetworkInterfaces.ipv4Addresses().first ?? "localhost"
}

/// Reads the host's network interfaces.
public enum NetworkInterfaces {
    /// The IPv4 addresses of the interfaces that are up, loopback excluded, in
    /// the order `getifaddrs` lists them.
    /// - Returns: dotted IPv4 addresses; empty when there are none or `getifaddrs` fails.
    public static func ipv4Addresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            cursor = entry.pointee.ifa_next
            let flags = Int(entry.pointee.ifa_flags)
            guard flags & Int(IFF_UP) != 0, flags & Int(IFF_LOOPBACK) == 0,
                let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET)
            else { continue }
            let text = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 -> String? in
                var inAddress = ipv4.pointee.sin_addr
                var characters = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                guard inet_ntop(AF_INET, &inAddress, &characters, socklen_t(characters.count)) != nil else { return nil }
                return String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            // An interface without the loopback flag can still carry a 127.x address.
            if let text, !text.hasPrefix("127.") { addresses.append(text) }
        }
        return addresses
    }
}
