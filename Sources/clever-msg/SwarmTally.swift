import CleverMessaging

/// Where each drone of a swarm stands, counted from its client's link events:
/// the numbers behind `swarm`'s progress line and summary.
struct SwarmTally: Sendable, Hashable {
    /// One drone's link.
    enum LinkState: Sendable, Hashable {
        /// Not connected yet, and no attempt failed.
        case waiting
        /// Its link is up.
        case connected
        /// Its link went down; it connects again.
        case dropped
        /// Its last attempt failed, for this reason.
        case failing(String)
    }

    /// The drones' states, by drone index.
    private(set) var states: [LinkState]
    /// How many drones are connected.
    private(set) var connected = 0
    /// How many drones' last attempt failed.
    private(set) var failing = 0
    /// How many links came up again after a drone's first (reconnects, across the swarm).
    private(set) var reconnects = 0
    /// Whether each drone had a link up before (by drone index).
    private var linkedBefore: [Bool]
    /// Actions received, across the swarm.
    private(set) var actions = 0
    /// Files received, across the swarm.
    private(set) var files = 0
    /// How many drones have not connected yet, and no attempt of theirs failed.
    var waiting: Int { states.lazy.filter { $0 == .waiting }.count }

    /// A tally of `count` drones, none connected.
    init(count: Int) {
        states = Array(repeating: .waiting, count: count)
        linkedBefore = Array(repeating: false, count: count)
    }

    /// Counts one action received by a drone.
    mutating func recordAction() {
        actions += 1
    }

    /// Counts one file received by a drone.
    mutating func recordFile() {
        files += 1
    }

    /// How many drones.
    var count: Int { states.count }

    /// Counts `event` of drone number `index` (from 0).
    mutating func record(_ event: MessagingClient.Event, drone index: Int) {
        let new: LinkState
        switch event {
        case .connecting: return
        case .connected: new = .connected
        case .disconnected: new = .dropped
        case .connectFailed(_, _, _, let reason, _): new = .failing(reason)
        }
        let old = states[index]
        if case .connected = new {
            if linkedBefore[index] { reconnects += 1 }
            linkedBefore[index] = true
        }
        if case .connected = old { connected -= 1 }
        if case .failing = old { failing -= 1 }
        if case .connected = new { connected += 1 }
        if case .failing = new { failing += 1 }
        states[index] = new
    }

    /// The failing drones' reasons, most frequent first, with how many drones gave each.
    var failureReasons: [(reason: String, drones: Int)] {
        var counts: [String: Int] = [:]
        for case .failing(let reason) in states { counts[reason, default: 0] += 1 }
        return counts.map { ($0.key, $0.value) }.sorted { $0.drones != $1.drones ? $0.drones > $1.drones : $0.reason < $1.reason }
    }
}
