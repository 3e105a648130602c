/// The count of a call that reaches several drones: how many were asked, how
/// many succeeded, and which were skipped, grouped by reason
/// (``DroneResults/tally``).
public struct DroneTally: Sendable, Hashable, Codable {
    /// The drones skipped for one reason.
    public struct Group: Sendable, Hashable, Codable {
        /// Why.
        public var reason: DroneSkipReason
        /// The drones, in the order of the results.
        public var droneIDs: [String]
    }

    /// How many drones were asked.
    public var total: Int
    /// How many succeeded.
    public var reached: Int
    /// The drones skipped, one group per reason, in the order of
    /// `DroneSkipReason.allCases`; no group is empty.
    public var skipped: [Group]

    /// Counts outcomes.
    /// - Parameter outcomes: each drone's id and why it was skipped (`nil`: it succeeded), in order.
    public init(_ outcomes: [(droneID: String, skipReason: DroneSkipReason?)]) {
        total = outcomes.count
        var reached = 0
        var byReason: [DroneSkipReason: [String]] = [:]
        for outcome in outcomes {
            if let reason = outcome.skipReason { byReason[reason, default: []].append(outcome.droneID) } else { reached += 1 }
        }
        self.reached = reached
        skipped = DroneSkipReason.allCases.compactMap { reason in byReason[reason].map { Group(reason: reason, droneIDs: $0) } }
    }

    /// The drones skipped for `reason`, in order.
    /// - Parameter reason: the reason.
    /// - Returns: their ids (empty when none).
    public func skipped(_ reason: DroneSkipReason) -> [String] {
        skipped.first { $0.reason == reason }?.droneIDs ?? []
    }

    /// One line for people: `VERB R of T`, then each group of skipped drones
    /// with the first `listing` ids, such as
    /// `sent to 198 of 202; 4 disconnected: copter-7, copter-9, copter-11, …`.
    /// - Parameters:
    ///   - verb: what reaching a drone is called, such as `sent to` or `answered`.
    ///   - listing: how many ids of each group are named before `…`.
    /// - Returns: the line.
    public func summary(_ verb: String, listing: Int = 3) -> String {
        var line = "\(verb) \(reached) of \(total)"
        for group in skipped {
            var ids = group.droneIDs.prefix(max(listing, 0)).joined(separator: ", ")
            if group.droneIDs.count > listing { ids += ids.isEmpty ? "…" : ", …" }
            line += "; \(group.droneIDs.count) \(group.reason.words): \(ids)"
        }
        return line
    }
}
