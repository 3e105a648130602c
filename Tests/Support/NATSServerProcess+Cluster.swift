extension NATSServerProcess {
    /// Starts `count` nats-servers routed to each other as the cluster `clever`,
    /// each on loopback client and route ports of its own, and waits until every
    /// node has its routes to all the others.
    public static func cluster(of count: Int = 3) async throws -> [NATSServerProcess] {
        var clientPorts: [Int] = []
        var routePorts: [Int] = []
        for _ in 0..<count {
            clientPorts.append(try await freePort())
            routePorts.append(try await freePort())
        }
        var nodes: [NATSServerProcess] = []
        for index in 0..<count {
            let routes = routePorts.indices.filter { $0 != index }.map { "nats://127.0.0.1:\(routePorts[$0])" }
            nodes.append(
                try await NATSServerProcess(
                    port: clientPorts[index],
                    extra: [
                        "--cluster_name", "clever", "--cluster", "nats://127.0.0.1:\(routePorts[index])",
                        "--routes", routes.joined(separator: ","),
                    ]))
        }
        for node in nodes {
            try await node.waitForOutput("Route connection created", count: count - 1)
        }
        return nodes
    }
}
