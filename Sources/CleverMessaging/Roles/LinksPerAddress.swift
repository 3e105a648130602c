/// How many links a server serves from each IP address (for
/// ``MessagingServer/maximumConnectionsPerAddress``).
struct LinksPerAddress {
    private var counts: [String: Int] = [:]
    private var hosts: [Int: String] = [:]

    /// Counts a new link from `host`, unless `limit` links from it are up already.
    /// - Returns: whether it was counted.
    mutating func add(_ host: String, number: Int, limit: Int) -> Bool {
        let count = counts[host, default: 0]
        guard count < limit else { return false }
        counts[host] = count + 1
        hosts[number] = host
        return true
    }

    /// The link `number` is down.
    mutating func remove(number: Int) {
        guard !hosts.isEmpty, let host = hosts.removeValue(forKey: number) else { return }
        let count = counts[host, default: 1] - 1
        counts[host] = count > 0 ? count : nil
    }

    /// Links up from `host`.
    func count(of host: String) -> Int { counts[host, default: 0] }
}
