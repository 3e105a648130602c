import CleverMessaging
import NIOCore

/// Something a ``FleetView`` saw: a drone event from a station, or its own
/// NATS connection dropping and coming back.
public enum FleetViewEvent: Sendable, Hashable {
    /// A drone connected to its station and was identified.
    case joined(FleetDroneID, FleetDroneEvent)
    /// A drone's link to its station closed.
    case left(FleetDroneID, FleetDroneEvent)
    /// A drone's latest telemetry record.
    case telemetry(FleetDroneID, JSONValue)
    /// A station measured a drone's clock.
    case clock(FleetDroneID, FleetClockEvent)
    /// A file push to a drone ended.
    case file(FleetDroneID, FleetFileEvent)
    /// An event whose payload is not the contract's JSON (it is skipped).
    case malformed(subject: String, reason: String)
    /// The view's NATS connection dropped; the client reconnects by itself.
    case disconnected
    /// The view's NATS connection is back; `gap` is how long it was down
    /// (events published meanwhile were not seen).
    case reconnected(gap: Duration)

    /// Decodes the event published on `subject`; `nil` when the subject is not a drone event's.
    /// - Parameters:
    ///   - subject: the message's subject.
    ///   - payload: its payload (JSON).
    /// - Returns: the event, or ``malformed(subject:reason:)``.
    public static func decode(subject: String, payload: ByteBuffer) -> FleetViewEvent? {
        guard let parsed = FleetEventSubject(subject) else { return nil }
        let drone = parsed.drone
        do {
            switch parsed.kind {
            case .joined: return .joined(drone, try BridgeJSON.decode(FleetDroneEvent.self, from: payload))
            case .left: return .left(drone, try BridgeJSON.decode(FleetDroneEvent.self, from: payload))
            case .telemetry: return .telemetry(drone, try BridgeJSON.decode(JSONValue.self, from: payload))
            case .clock: return .clock(drone, try BridgeJSON.decode(FleetClockEvent.self, from: payload))
            case .file: return .file(drone, try BridgeJSON.decode(FleetFileEvent.self, from: payload))
            }
        } catch {
            return .malformed(subject: subject, reason: "\(error)")
        }
    }

    /// Decodes the event published on `subject` from text (see ``decode(subject:payload:)-(_,ByteBuffer)``).
    /// - Parameters:
    ///   - subject: the message's subject.
    ///   - payload: its payload (JSON text).
    /// - Returns: the event, or ``malformed(subject:reason:)``; `nil` when the subject is not a drone event's.
    public static func decode(subject: String, payload: String) -> FleetViewEvent? {
        decode(subject: subject, payload: ByteBuffer(string: payload))
    }
}
