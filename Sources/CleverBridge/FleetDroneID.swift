/// One drone of the fleet: its station and its id there, written `station/drone`.
///
/// Drone ids are unique per station only; the pair is unique across the fleet.
public struct FleetDroneID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The station's name (one NATS token).
    public var station: String
    /// The drone's id at that station (one NATS token).
    public var drone: String

    /// Creates the pair.
    /// - Parameters:
    ///   - station: the station's name.
    ///   - drone: the drone's id at that station.
    public init(station: String, drone: String) {
        self.station = station
        self.drone = drone
    }

    /// Parses `station/drone`; both parts must be single NATS tokens (see `FleetSubjects.token(_:)`).
    /// - Parameter text: the text.
    /// - Throws: ``FleetError`` with code `invalid_target`.
    public init(parsing text: some StringProtocol) throws(FleetError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, FleetSubjects.token(String(parts[0])), FleetSubjects.token(String(parts[1])) else {
            throw FleetError.invalidTarget("not STATION/DRONE: \(text)")
        }
        self.init(station: String(parts[0]), drone: String(parts[1]))
    }

    /// `station/drone`.
    public var description: String { "\(station)/\(drone)" }

    /// Orders by station, then drone, each in natural order (`copter-2` before `copter-10`).
    public static func < (lhs: FleetDroneID, rhs: FleetDroneID) -> Bool {
        if lhs.station != rhs.station { return FleetNaturalOrder.less(lhs.station, rhs.station) }
        return FleetNaturalOrder.less(lhs.drone, rhs.drone)
    }
}

/// Compares names with their digit runs as numbers (`copter-2` < `copter-10`).
enum FleetNaturalOrder {
    static func less(_ a: String, _ b: String) -> Bool {
        var left = Substring(a)
        var right = Substring(b)
        while let l = left.first, let r = right.first {
            if l.isASCII, l.isNumber, r.isASCII, r.isNumber {
                let ln = left.prefix { $0.isASCII && $0.isNumber }
                let rn = right.prefix { $0.isASCII && $0.isNumber }
                let lt = ln.drop { $0 == "0" }
                let rt = rn.drop { $0 == "0" }
                if lt.count != rt.count { return lt.count < rt.count }
                if lt != rt { return lt < rt }
                left = left.dropFirst(ln.count)
                right = right.dropFirst(rn.count)
            } else {
                if l != r { return l < r }
                left = left.dropFirst()
                right = right.dropFirst()
            }
        }
        return left.isEmpty && !right.isEmpty
    }
}
