import CleverMessaging

/// The NATS subjects a ground station's bridge publishes and serves: the
/// stable contract between stations, fleet consoles, dashboards and recorders.
///
/// Every subject starts with `clever.<station>`; a drone's with
/// `clever.<station>.<drone>`. Station and drone names are single NATS tokens
/// (no `.`, `*`, `>` or whitespace): ``token(_:)`` checks one.
///
/// | Subject | Kind | Payload (JSON) |
/// |---|---|---|
/// | `clever.<station>.<drone>.joined` | event | ``FleetDroneEvent`` |
/// | `clever.<station>.<drone>.left` | event | ``FleetDroneEvent`` |
/// | `clever.<station>.<drone>.telemetry` | event, rate-limited per drone | the drone's telemetry record (a JSON object) |
/// | `clever.<station>.<drone>.clock` | event | ``FleetClockEvent`` |
/// | `clever.<station>.<drone>.file` | event | ``FleetFileEvent`` |
/// | `clever.<station>.<drone>.action.<name>` | served: publish (a reply subject, when given, gets a ``FleetStartReply``: which drones it was sent to) | ``FleetArguments`` (`all` as `<drone>`: every drone of the station) |
/// | `clever.<station>.<drone>.request.<name>` | served: request-reply | ``FleetArguments`` → ``FleetReply`` |
/// | `clever.<station>.status` | served: request-reply | empty → ``FleetStationStatus`` |
/// | `clever.<station>.time` | served: request-reply | empty → ``FleetTime`` (the station's wall clock) |
/// | `clever.<station>.start` | served: request-reply | ``FleetStartRequest`` → ``FleetStartReply`` |
/// | `clever.discover` | served by every station: request-reply, many replies | empty → ``FleetStationStatus`` |
public enum FleetSubjects {
    /// The first token of every subject.
    public static let root = "clever"
    /// Every station answers a request here with its status (a console collects the replies for a while).
    public static let discover = "clever.discover"
    /// The drone token that addresses every drone of a station (actions only).
    public static let allDrones = "all"

    /// `clever.<station>.<drone>.<kind>`: a drone's event.
    public static func event(_ kind: FleetEventKind, station: String, drone: String) -> String {
        "\(root).\(station).\(drone).\(kind.rawValue)"
    }

    /// `clever.<station>.<drone>.action.<name>`.
    public static func action(_ name: String, station: String, drone: String) -> String {
        "\(root).\(station).\(drone).action.\(name)"
    }

    /// `clever.<station>.<drone>.request.<name>`.
    public static func request(_ name: String, station: String, drone: String) -> String {
        "\(root).\(station).\(drone).request.\(name)"
    }

    /// `clever.<station>.status`.
    public static func status(station: String) -> String { "\(root).\(station).status" }

    /// `clever.<station>.time`.
    public static func time(station: String) -> String { "\(root).\(station).time" }

    /// `clever.<station>.start`.
    public static func start(station: String) -> String { "\(root).\(station).start" }

    /// Every event of every drone of `station` (or of every station: `*`).
    public static func events(station: String = "*") -> String { "\(root).\(station).*.*" }

    /// Whether `name` can be one subject token (a station, drone, action or request name).
    public static func token(_ name: String) -> Bool {
        !name.isEmpty && !name.contains { $0 == "." || $0 == "*" || $0 == ">" || $0.isWhitespace }
    }
}

/// The kinds of drone events (the last token of an event subject).
public enum FleetEventKind: String, Sendable, Codable, CaseIterable {
    /// A drone connected and was identified.
    case joined
    /// A drone's link closed.
    case left
    /// A drone's latest telemetry record.
    case telemetry
    /// A drone's clock offset was measured.
    case clock
    /// A file push to a drone ended.
    case file
}

/// A drone joined or left (`joined`, `left`).
public struct FleetDroneEvent: Sendable, Codable, Hashable {
    /// The station.
    public var station: String
    /// The drone.
    public var drone: String
    /// The drone's address as the station sees it (`HOST:PORT`), when known.
    public var address: String?
    /// The station's wall clock when it happened (Unix seconds).
    public var time: Double

    /// Creates the event.
    public init(station: String, drone: String, address: String?, time: Double) {
        self.station = station
        self.drone = drone
        self.address = address
        self.time = time
    }
}

/// A drone's clock offset (`clock`), in milliseconds.
public struct FleetClockEvent: Sendable, Codable, Hashable {
    /// The drone.
    public var drone: String
    /// Drone clock minus station clock.
    public var offsetMilliseconds: Double
    /// Half the round trip of the best sample.
    public var uncertaintyMilliseconds: Double

    /// Creates the event.
    public init(drone: String, offsetMilliseconds: Double, uncertaintyMilliseconds: Double) {
        self.drone = drone
        self.offsetMilliseconds = offsetMilliseconds
        self.uncertaintyMilliseconds = uncertaintyMilliseconds
    }
}

/// A file push to a drone ended (`file`).
public struct FleetFileEvent: Sendable, Codable, Hashable {
    /// The drone.
    public var drone: String
    /// The path on the drone.
    public var path: String
    /// Whether the drone verified it.
    public var succeeded: Bool
    /// The error's stable code and message when it failed.
    public var error: FleetError?

    /// Creates the event.
    public init(drone: String, path: String, succeeded: Bool, error: FleetError?) {
        self.drone = drone
        self.path = path
        self.succeeded = succeeded
        self.error = error
    }
}

/// The arguments of an action or request sent through NATS.
public struct FleetArguments: Sendable, Codable, Hashable {
    /// Positional arguments (JSON values).
    public var args: [JSONValue]
    /// Keyword arguments (JSON values).
    public var kwargs: [String: JSONValue]

    /// Creates the arguments.
    public init(args: [JSONValue] = [], kwargs: [String: JSONValue] = [:]) {
        self.args = args
        self.kwargs = kwargs
    }
}

/// A request's reply through NATS: the drone's value, or a typed error.
public struct FleetReply: Sendable, Codable, Hashable {
    /// The drone's reply value, when it answered.
    public var value: JSONValue?
    /// Why there is no value (`unknown_drone`, `timed_out`, the drone's own error…).
    public var error: FleetError?

    /// Creates the reply.
    public init(value: JSONValue?, error: FleetError?) {
        self.value = value
        self.error = error
    }
}

/// An error carried through NATS: a stable code and a message.
public struct FleetError: Sendable, Codable, Hashable, Error {
    /// The stable code (a `MessagingError` code, or `unknown_drone`).
    public var code: String
    /// A message for people.
    public var message: String

    /// Creates the error.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// A station's status (`clever.<station>.status`, `clever.discover`).
public struct FleetStationStatus: Sendable, Codable, Hashable {
    /// The station.
    public var station: String
    /// Its drones, by id, sorted.
    public var drones: [Drone]
    /// The station's wall clock when it answered (Unix seconds).
    public var time: Double

    /// One drone of the station.
    public struct Drone: Sendable, Codable, Hashable {
        /// The drone's id.
        public var id: String
        /// Whether it is connected now.
        public var connected: Bool
        /// Its address, when connected.
        public var address: String?
        /// Its latest clock offset, in milliseconds, when measured.
        public var clockOffsetMilliseconds: Double?

        /// Creates the entry.
        public init(id: String, connected: Bool, address: String?, clockOffsetMilliseconds: Double?) {
            self.id = id
            self.connected = connected
            self.address = address
            self.clockOffsetMilliseconds = clockOffsetMilliseconds
        }
    }

    /// Creates the status.
    public init(station: String, drones: [Drone], time: Double) {
        self.station = station
        self.drones = drones
        self.time = time
    }
}

/// A station's wall clock (`clever.<station>.time`), for a console to measure the station's offset.
public struct FleetTime: Sendable, Codable, Hashable {
    /// Unix seconds.
    public var time: Double

    /// Creates the reading.
    public init(time: Double) { self.time = time }
}

/// A timed start for a station's drones (`clever.<station>.start`).
public struct FleetStartRequest: Sendable, Codable, Hashable {
    /// The instant, in Unix seconds on the station's clock (a console converts it with the station's offset).
    public var time: Double
    /// The action to run at that instant (usually `start`).
    public var action: String
    /// Its keyword arguments.
    public var kwargs: [String: JSONValue]
    /// The drones; `nil`: every drone of the station.
    public var drones: [String]?

    /// Creates the request.
    public init(time: Double, action: String, kwargs: [String: JSONValue] = [:], drones: [String]? = nil) {
        self.time = time
        self.action = action
        self.kwargs = kwargs
        self.drones = drones
    }
}

/// A station's answer to a timed start: which drones acknowledged it.
public struct FleetStartReply: Sendable, Codable, Hashable {
    /// The station.
    public var station: String
    /// The drones that acknowledged (or were sent, for reference drones), sorted.
    public var succeeded: [String]
    /// The drones that failed, with why, sorted by drone.
    public var failed: [String: FleetError]

    /// Creates the reply.
    public init(station: String, succeeded: [String], failed: [String: FleetError]) {
        self.station = station
        self.succeeded = succeeded
        self.failed = failed
    }
}
