import CleverMessaging

/// What a fleet console knows of each drone from the events it saw: whether
/// it is connected, its latest telemetry record and when that came, its clock
/// offset at its station. Pure: events and the time they came are its input.
public struct FleetTelemetryTable: Sendable, Hashable {
    /// One drone's row.
    public struct Row: Sendable, Hashable {
        /// The drone.
        public var drone: FleetDroneID
        /// Whether its station last said it is connected (`nil`: no joined/left event seen).
        public var connected: Bool?
        /// Its latest telemetry record.
        public var telemetry: JSONValue?
        /// When that record came (the console's clock, Unix seconds).
        public var telemetryTime: Double?
        /// Its clock's offset from its station's, in milliseconds, when measured.
        public var clockOffsetMilliseconds: Double?
        /// Its latest file push: the path, and whether it succeeded.
        public var lastFile: FleetFileEvent?

        /// A row with nothing known yet.
        /// - Parameter drone: the drone.
        public init(drone: FleetDroneID) { self.drone = drone }
    }

    /// The rows, by drone.
    public private(set) var rows: [FleetDroneID: Row] = [:]
    /// How many events were taken in.
    public private(set) var events = 0

    /// An empty table.
    public init() {}

    /// Takes in one event that came at `time` (console clock, Unix seconds).
    /// - Parameters:
    ///   - event: the event.
    ///   - time: when it came.
    public mutating func apply(_ event: FleetViewEvent, at time: Double) {
        switch event {
        case .joined(let drone, _): update(drone) { $0.connected = true }
        case .left(let drone, _): update(drone) { $0.connected = false }
        case .telemetry(let drone, let value):
            update(drone) {
                $0.telemetry = value
                $0.telemetryTime = time
            }
        case .clock(let drone, let clock): update(drone) { $0.clockOffsetMilliseconds = clock.offsetMilliseconds }
        case .file(let drone, let file): update(drone) { $0.lastFile = file }
        case .malformed, .disconnected, .reconnected: return
        }
        events += 1
    }

    /// Records what a station's status says of its drones (connected or not, clock offsets).
    /// - Parameter status: the station's status.
    public mutating func apply(_ status: FleetStationStatus) {
        for entry in status.drones {
            update(FleetDroneID(station: status.station, drone: entry.id)) {
                $0.connected = entry.connected
                if let offset = entry.clockOffsetMilliseconds { $0.clockOffsetMilliseconds = offset }
            }
        }
    }

    /// The rows in order (station, then drone, natural order), those `target` covers.
    /// - Parameter target: which drones; `nil`: all.
    /// - Returns: the rows.
    public func sortedRows(_ target: FleetTarget? = nil) -> [Row] {
        rows.values.filter { target?.contains($0.drone) ?? true }.sorted { $0.drone < $1.drone }
    }

    private mutating func update(_ drone: FleetDroneID, _ change: (inout Row) -> Void) {
        change(&rows[drone, default: Row(drone: drone)])
    }
}
