/// Which drones a fleet command is for: every drone of every station (`*` or `all`),
/// every drone of some stations (`station/*`), and single drones (`station/drone`),
/// in a comma-separated list.
public struct FleetTarget: Sendable, Hashable, CustomStringConvertible {
    /// Every drone of every station.
    public var everyStation: Bool
    /// Stations whose every drone is meant, sorted, each once.
    public var stations: [String]
    /// Single drones (not of ``stations``), sorted, each once.
    public var drones: [FleetDroneID]

    /// Every drone of every station.
    public static let all = FleetTarget(everyStation: true, stations: [], drones: [])

    /// Creates a target; drones of a whole station are dropped (the station covers them).
    /// - Parameters:
    ///   - everyStation: every drone of every station.
    ///   - stations: whole stations.
    ///   - drones: single drones.
    public init(everyStation: Bool = false, stations: [String] = [], drones: [FleetDroneID] = []) {
        self.everyStation = everyStation
        let whole = everyStation ? [] : Set(stations)
        self.stations = whole.sorted(by: FleetNaturalOrder.less)
        self.drones = everyStation ? [] : Set(drones).filter { !whole.contains($0.station) }.sorted()
    }

    /// Parses `*`, `all`, or a comma-separated list of `station/*` and `station/drone`.
    /// - Parameter text: the text.
    /// - Throws: ``FleetError`` with code `invalid_target`.
    public init(parsing text: String) throws(FleetError) {
        let words = text.split(separator: ",", omittingEmptySubsequences: true).map { $0.trimmingWhitespace() }
        guard !words.isEmpty else { throw .invalidTarget("TARGET names no drone: \(text)") }
        var everyStation = false
        var stations: [String] = []
        var drones: [FleetDroneID] = []
        for word in words {
            if word == "*" || word == "all" {
                everyStation = true
            } else if word.hasSuffix("/*") || word.hasSuffix("/all") {
                let station = String(word.prefix { $0 != "/" })
                guard FleetSubjects.token(station) else { throw .invalidTarget("not a station name: \(station)") }
                stations.append(station)
            } else {
                drones.append(try FleetDroneID(parsing: word))
            }
        }
        self.init(everyStation: everyStation, stations: stations, drones: drones)
    }

    /// Whether `drone` is meant.
    /// - Parameter drone: the drone.
    /// - Returns: whether the target covers it.
    public func contains(_ drone: FleetDroneID) -> Bool {
        everyStation || stations.contains(drone.station) || drones.contains(drone)
    }

    /// The target written as it parses: `*`, or the list.
    public var description: String {
        everyStation ? "*" : (stations.map { "\($0)/*" } + drones.map(\.description)).joined(separator: ",")
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
