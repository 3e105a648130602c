import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import CleverMessaging

/// Acknowledged delivery from a ground station to a fleet of Swift drones
/// through a network outage: every drone's link goes through a ``FaultProxy``
/// that stops forwarding for 20 s while the station keeps sending. Whatever
/// the outage does to the links, each action the station sent runs once on
/// its drone and each receipt says delivered.
///
/// Through the proxy, an outage usually goes like this: a drone hears nothing,
/// gives its link up once its ping goes unanswered (about 5 s in), and
/// connects again, its new links hanging in their handshake until the proxy
/// forwards again; the station's side of the old link stays up (the proxy's
/// TCP still acknowledges what the station writes) until the drone's new link
/// takes its session over. A link the station gives up instead leaves the
/// session in the station's table, and sends wait for the drone (`waitingUpTo`).
@Suite("Outage: acknowledged delivery to a fleet", .timeLimit(.minutes(3)))
struct OutageDeliveryTests {
    /// The `n` of every `step` action each drone ran, and how many times.
    final class Runs: Sendable {
        struct Tally: Sendable {
            /// Per drone: each `n` run, with how many times it ran.
            var byDrone: [String: [Int: Int]] = [:]
            /// Every run, counted once per run.
            var total = 0
        }

        let tally = Watched(Tally())

        func ran(_ n: Int, on drone: String) {
            tally.update { t in
                t.byDrone[drone, default: [:]][n, default: 0] += 1
                t.total += 1
            }
        }
    }

    /// Counts of link events, on the drones' side and on the station's.
    final class LinkCounts: Sendable {
        struct Counts: Sendable {
            var droneConnected = 0
            var droneDisconnected = 0
            var droneConnectFailed = 0
            var stationDisconnected = 0
            var stationReconnected = 0
        }

        let counts = NIOLockedValueBox(Counts())
        var value: Counts { counts.withLockedValue { $0 } }
    }

    /// A drone answering `id` and `clover_dir`, recording each `step` it runs.
    static func drone(_ id: String, port: Int, limiter: ConnectLimiter, runs: Runs) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("clover_dir") { _, _, _ in .string("/home/pi/\(id)") }
        registry.onAction("step") { _, _, kwargs in
            if let n = kwargs["n"]?.integerValue { runs.ran(n, on: id) }
        }
        return MessagingClient(
            host: "127.0.0.1", port: port, registry: registry,
            reconnectPolicy: ReconnectPolicy(
                initialDelay: .milliseconds(100), backoffMultiplier: 1.5, maximumDelay: .milliseconds(500), jitter: 0.3
            ),
            connectLimiter: limiter
        )
    }

    /// One station send: its number, and each drone's result.
    struct Sent: Sendable {
        var n: Int
        var results: SendResults
    }

    @Test("20 s outage, 200 drones behind a fault proxy: every action runs once, every receipt says delivered")
    func outage() async throws {
        let droneCount = 200
        let interval = Duration.milliseconds(100)
        let before = Duration.seconds(5)
        let outage = Duration.seconds(20)
        let after = Duration.seconds(3)
        let started = ContinuousClock.now

        let ids = (1...droneCount).map { "drone-\($0)" }
        let runs = Runs()
        let links = LinkCounts()
        let station = GroundStation(host: "127.0.0.1", port: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let proxy = try await FaultProxy.start(to: try await station.server.localAddress())
            let stationEvents = station.events()
            group.addTask {
                for await event in stationEvents {
                    switch event {
                    case .disconnected: links.counts.withLockedValue { $0.stationDisconnected += 1 }
                    case .reconnected: links.counts.withLockedValue { $0.stationReconnected += 1 }
                    default: break
                    }
                }
            }
            let limiter = ConnectLimiter(maximumInFlight: 32)
            let drones = ids.map { Self.drone($0, port: proxy.port, limiter: limiter, runs: runs) }
            for drone in drones {
                drone.observeEvents { event in
                    switch event {
                    case .connected: links.counts.withLockedValue { $0.droneConnected += 1 }
                    case .disconnected: links.counts.withLockedValue { $0.droneDisconnected += 1 }
                    case .connectFailed: links.counts.withLockedValue { $0.droneConnectFailed += 1 }
                    default: break
                    }
                }
                group.addTask { try await drone.run() }
            }
            func stop() async {
                for drone in drones { drone.shutdown() }
                await proxy.close()
                station.shutdown()
            }
            do {
                try await station.waitForDrones(droneCount, timeout: .seconds(60))
                let identified = ContinuousClock.now

                // One send to every drone each `interval`, each in a task of its
                // own (a send waits until its frames are written, and, for a drone
                // whose station-side link is down, until the drone is back).
                let atResume = NIOLockedValueBox<LinkCounts.Counts?>(nil)
                let sent = try await withThrowingTaskGroup(of: Sent.self, returning: [Sent].self) { sends in
                    let clock = ContinuousClock()
                    let start = clock.now
                    let outageStart = start.advanced(by: before)
                    let outageEnd = outageStart.advanced(by: outage)
                    let end = outageEnd.advanced(by: after)
                    var n = 0
                    var paused = false
                    var resumed = false
                    var next = start
                    while next < end {
                        if !paused && next >= outageStart {
                            proxy.pause()
                            paused = true
                        }
                        if paused && !resumed && next >= outageEnd {
                            let counts = links.value
                            atResume.withLockedValue { $0 = counts }
                            proxy.resume()
                            resumed = true
                        }
                        n += 1
                        let number = n
                        sends.addTask {
                            let results = try await station.send(
                                "step", args: [], kwargs: ["n": .integer(number)], to: ids, waitingUpTo: .seconds(90)
                            )
                            return Sent(n: number, results: results)
                        }
                        next = next.advanced(by: interval)
                        // Real time: the sends are paced on the wall clock across the outage.
                        try await clock.sleep(until: next)
                    }
                    var all: [Sent] = []
                    for try await one in sends { all.append(one) }
                    return all.sorted { $0.n < $1.n }
                }
                let sendsDone = ContinuousClock.now

                // What each drone should run: every send whose frame reached its link.
                var expected: [String: Set<Int>] = [:]
                var receipts: [SendReceipt] = []
                var failures: [String: Int] = [:]
                for one in sent {
                    for element in one.results {
                        switch element.result {
                        case .success(let receipt):
                            expected[element.droneID, default: []].insert(one.n)
                            receipts.append(receipt)
                        case .failure(let error):
                            failures["\(error.code.rawValue)", default: 0] += 1
                        }
                    }
                }
                #expect(failures.isEmpty, "every send reached every drone's link: \(failures)")
                #expect(receipts.allSatisfy { $0.guarantee == .delivered })

                // Every receipt completes (the deadline only bounds a broken run).
                let awaited = receipts
                let outcomes = await withDeadline(.seconds(60), else: [String: Int]?.none) {
                    var outcomes: [String: Int] = [:]
                    for receipt in awaited {
                        do throws(MessagingError) {
                            outcomes["\(try await receipt.delivered())", default: 0] += 1
                        } catch {
                            outcomes["failed: \(error.code.rawValue)", default: 0] += 1
                        }
                    }
                    return outcomes
                }
                #expect(outcomes == ["delivered": receipts.count], "every receipt says delivered")
                let expectedRuns = expected.values.reduce(0) { $0 + $1.count }
                #expect(await runs.tally.wait(timeout: .seconds(30)) { $0.total >= expectedRuns })
                let delivered = ContinuousClock.now

                // Each drone ran each of its actions exactly once.
                let tally = runs.tally.value
                var runTwice = 0
                var missing = 0
                var unexpected = 0
                for id in ids {
                    let ran = tally.byDrone[id] ?? [:]
                    let wanted = expected[id] ?? []
                    runTwice += ran.values.reduce(0) { $0 + max(0, $1 - 1) }
                    missing += wanted.subtracting(ran.keys).count
                    unexpected += Set(ran.keys).subtracting(wanted).count
                }
                #expect(runTwice == 0, "no action ran twice")
                #expect(missing == 0, "no action is missing")
                #expect(unexpected == 0, "no drone ran an action whose send failed")

                // The station's counts, summed over its sessions (one per drone, on its current link).
                var statistics = DeliveryStatistics()
                var withoutLink = 0
                for id in ids {
                    guard let connection = station.connection(for: id) else {
                        withoutLink += 1
                        continue
                    }
                    let s = connection.deliveryStatistics
                    statistics.sent += s.sent
                    statistics.delivered += s.delivered
                    statistics.resent += s.resent
                    statistics.unacknowledged += s.unacknowledged
                }
                #expect(withoutLink == 0, "every drone has a link at the end")
                let duplicatesDropped = drones.reduce(0) { $0 + $1.connection.deliveryStatistics.duplicatesDropped }
                let droneLinks = drones.reduce(0) { $0 + $1.connection.linkCount }
                let counts = links.value

                #expect(statistics.sent == sent.count * droneCount)
                #expect(statistics.delivered == statistics.sent)
                #expect(statistics.unacknowledged == 0)

                func seconds(_ d: Duration) -> String {
                    let tenths = d.components.seconds * 10 + d.components.attoseconds / 100_000_000_000_000_000
                    return "\(tenths / 10).\(tenths % 10) s"
                }
                print(
                    "20 s outage, \(droneCount) drones: actions sent \(receipts.count) (\(sent.count) sends), "
                        + "delivered \(outcomes?["delivered"] ?? 0), resent \(statistics.resent), run twice \(runTwice), "
                        + "missing \(missing), duplicates dropped by drones \(duplicatesDropped), "
                        + "links dropped \(counts.droneDisconnected) (drone side) / \(counts.stationDisconnected) (station side), "
                        + "reconnects \(counts.stationReconnected) (station) / \(droneLinks - droneCount) (drone links beyond the first), "
                        + "failed connect attempts \(counts.droneConnectFailed)"
                )
                let during = atResume.withLockedValue { $0 } ?? LinkCounts.Counts()
                print(
                    "  during the outage: links dropped \(during.droneDisconnected) (drone side) / \(during.stationDisconnected) (station side)"
                )
                print(
                    "  station statistics: sent \(statistics.sent), delivered \(statistics.delivered), resent \(statistics.resent), "
                        + "unacknowledged \(statistics.unacknowledged); sessions stored \(station.server.storedDeliverySessions)"
                )
                print(
                    "  times: fleet identified \(seconds(identified - started)), sending \(seconds(sendsDone - identified)), "
                        + "all delivered \(seconds(delivered - sendsDone)) after the last send, total \(seconds(ContinuousClock.now - started))"
                )
            } catch {
                await stop()
                throw error
            }
            await stop()
            try await group.waitForAll()
        }
    }
}
