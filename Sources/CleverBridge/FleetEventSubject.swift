/// A drone event's subject taken apart: `clever.<station>.<drone>.<kind>`.
public struct FleetEventSubject: Sendable, Hashable {
    /// The drone.
    public var drone: FleetDroneID
    /// The kind of event.
    public var kind: FleetEventKind

    /// Creates it from its parts.
    /// - Parameters:
    ///   - drone: the drone.
    ///   - kind: the kind of event.
    public init(drone: FleetDroneID, kind: FleetEventKind) {
        self.drone = drone
        self.kind = kind
    }

    /// Parses an event subject; `nil` for any other subject.
    /// - Parameter subject: a NATS subject.
    public init?(_ subject: String) {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count == 4, tokens[0] == FleetSubjects.root,
            let kind = FleetEventKind(rawValue: String(tokens[3])),
            !tokens[1].isEmpty, !tokens[2].isEmpty
        else { return nil }
        self.init(drone: FleetDroneID(station: String(tokens[1]), drone: String(tokens[2])), kind: kind)
    }

    /// The subject.
    public var subject: String { FleetSubjects.event(kind, station: drone.station, drone: drone.drone) }
}
