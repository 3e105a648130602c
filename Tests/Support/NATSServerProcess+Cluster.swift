extension NATSServerProcess {
    /// Starts `count` nats-servers routed to each other as the cluster `clever`,
    /// each on a loopback client and route port it picks itself (each node is
    /// given the routes of the nodes before it; the cluster tells the rest), and
    /// waits until every node has its routes to all the others.
    public static func cluster(of count: Int = 3) async throws -> [NATSServerProcess] {
        var nodes: [NATSServerProcess] = []
        for _ in 0..<count {
            let routes = nodes.compactMap(\.routePort).map { "nats://127.0.0.1:\($0)" }
            var extra = ["--cluster_name", "clever", "--cluster", "nats://127.0.0.1:-1"]
            if !routes.isEmpty { extra += ["--routes", routes.joined(separator: ",")] }
            nodes.append(try await NATSServerProcess(extra: extra))
        }
        for node in nodes {
            try await node.waitForOutput("Route connection created", count: count - 1)
        }
        return nodes
    }
}
