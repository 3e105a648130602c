import CleverMessaging
import NIOCore

/// The JSON of the bridge's payloads: encoded with the library's
/// `JSONValueEncoder` and `JSONWriter`, parsed with its bounded parser.
enum BridgeJSON {
    /// `value` as a JSON payload.
    static func encode(_ value: some Encodable) throws -> ByteBuffer {
        try encode(value: JSONValueEncoder().encode(value))
    }

    /// A JSON value as a payload.
    static func encode(value: JSONValue) -> ByteBuffer {
        var buffer = ByteBuffer()
        JSONWriter.write(value, into: &buffer)
        return buffer
    }

    /// A payload decoded as `type`; an empty payload decodes as `empty` when given.
    static func decode<T: Decodable>(_ type: T.Type, from payload: ByteBuffer, empty: T? = nil) throws -> T {
        if payload.readableBytes == 0, let empty { return empty }
        let value = try payload.withUnsafeReadableBytes { raw in try JSONParser.parse(raw) }
        return try JSONValueDecoder().decode(T.self, from: value)
    }
}

extension FleetError {
    /// The fleet error carrying a library error: its stable code (a drone's
    /// error reply keeps the drone's own code) and its description.
    /// - Parameter error: the library error.
    public init(_ error: MessagingError) {
        if case .remote(let remote) = error {
            self.init(code: remote.code, message: remote.message)
        } else {
            self.init(code: error.code.rawValue, message: "\(error)")
        }
    }

    /// The code of a request or action to a drone the station has never seen.
    public static let unknownDroneCode = "unknown_drone"

    /// The error for a drone the station has never seen.
    /// - Parameter drone: the drone's id.
    /// - Returns: the error.
    public static func unknownDrone(_ drone: String) -> FleetError {
        FleetError(code: unknownDroneCode, message: "no drone \(drone) at this station")
    }
}
