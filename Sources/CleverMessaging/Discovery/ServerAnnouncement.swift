/// A server's discovery beacon (PROTOCOL.md section 5): where it listens, who it is,
/// and when it started.
///
/// On the wire it is the action frame `server_ip` with the keyword arguments
/// `host`, `port`, `id` and `start_time`; the reference writes `port` and
/// `start_time` as strings. ``init(frame:)`` reads either strings or numbers;
/// ``frame`` writes exactly what the reference writes.
public struct ServerAnnouncement: Sendable, Hashable {
    /// The address the server's clients should connect to (only parsed and
    /// encoded here: discovery never sends to it).
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The server's id (the reference's is a short decimal string such as `"0815"`).
    public var id: String
    /// When the server started, in seconds since the Unix epoch; of two servers
    /// with different ids, the one with the smaller value keeps running.
    public var startTime: Double

    /// The action name of a beacon frame: `"server_ip"`.
    public static let action = "server_ip"

    /// Creates an announcement.
    /// - Parameters:
    ///   - host: the address clients should connect to.
    ///   - port: the server's TCP port.
    ///   - id: the server's id.
    ///   - startTime: the server's start, in seconds since the Unix epoch.
    public init(host: String, port: Int, id: String, startTime: Double) {
        self.host = host
        self.port = port
        self.id = id
        self.startTime = startTime
    }

    /// Reads a `server_ip` action frame.
    ///
    /// `port` may be a decimal string (as the reference sends it) or an integer
    /// (1 to 65535); `start_time` a decimal string (as the reference sends it) or
    /// a number, and must be finite; `id` a string or an integer; `host` a
    /// non-empty string.
    /// - Parameter frame: a received frame.
    /// - Returns: `nil` when the frame is not a well-formed `server_ip` action.
    public init?(frame: Frame) {
        guard frame.header.messageType == .message,
            frame.header.action == Self.action,
            case .json(let content) = frame.content,
            let kwargs = content["kwargs"]?.objectValue
        else { return nil }
        guard let host = kwargs["host"]?.stringValue, !host.isEmpty,
            let port = kwargs["port"].flatMap(Self.parsePort),
            let id = kwargs["id"].flatMap(Self.parseID),
            let startTime = kwargs["start_time"].flatMap(Self.parseTime)
        else { return nil }
        self.init(host: host, port: port, id: id, startTime: startTime)
    }

    /// The `server_ip` action frame, as the reference writes it: no positional
    /// arguments, keyword arguments `host`, `port` (a string), `id` and
    /// `start_time` (Python's `str(float)` of ``startTime``), in that order.
    public var frame: Frame {
        Frame.action(
            Self.action,
            kwargs: [
                "host": .string(host),
                "port": .string(String(port)),
                "id": .string(id),
                "start_time": .string(Self.pythonFloatString(startTime)),
            ]
        )
    }

    /// Formats a float as Python's `str(float)` (= `repr`) does: the shortest
    /// digits that read back exactly, in positional notation with at least one
    /// fractional digit (`"1700000000.123"`, `"3.0"`, `"0.0001"`) when the decimal
    /// exponent is from -4 to 15, otherwise in exponent notation with a signed,
    /// at least two-digit exponent (`"1e-05"`, `"1e+16"`, `"1.5e+300"`);
    /// `"nan"`, `"inf"`, `"-inf"` for non-finite values.
    /// - Parameter value: the value.
    /// - Returns: the text Python would write.
    public static func pythonFloatString(_ value: Double) -> String {
        PythonFloatFormat.string(value)
    }

    private static func parsePort(_ value: JSONValue) -> Int? {
        let port: Int?
        switch value {
        case .string(let s): port = Int(s.trimmingASCIIWhitespace)
        case .integer(let i): port = i
        case .double(let d) where d.rounded() == d && d.magnitude < 1e6: port = Int(d)
        default: port = nil
        }
        guard let port, (1...65535).contains(port) else { return nil }
        return port
    }

    private static func parseID(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .bigInteger(let s): return s
        default: return nil
        }
    }

    private static func parseTime(_ value: JSONValue) -> Double? {
        let time: Double?
        switch value {
        case .string(let s): time = Double(s.trimmingASCIIWhitespace)
        default: time = value.doubleValue
        }
        guard let time, time.isFinite else { return nil }
        return time
    }
}

extension ServerAnnouncement: CustomStringConvertible {
    /// `id@host:port (started <start_time>)`.
    public var description: String {
        "\(id)@\(host):\(port) (started \(Self.pythonFloatString(startTime)))"
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks
    /// (Python's `int()` and `float()` accept them).
    fileprivate var trimmingASCIIWhitespace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return self[start...end]
    }
}
