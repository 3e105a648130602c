import CleverMessaging
import Foundation

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
    public static func decode(subject: String, payload: String) -> FleetViewEvent? {
        guard let parsed = FleetEventSubject(subject) else { return nil }
        let drone = parsed.drone
        let data = Data(payload.utf8)
        let decoder = JSONDecoder()
        do {
            switch parsed.kind {
            case .joined: return .joined(drone, try decoder.decode(FleetDroneEvent.self, from: data))
            case .left: return .left(drone, try decoder.decode(FleetDroneEvent.self, from: data))
            case .telemetry: return .telemetry(drone, try decoder.decode(JSONValue.self, from: data))
            case .clock: return .clock(drone, try decoder.decode(FleetClockEvent.self, from: data))
            case .file: return .file(drone, try decoder.decode(FleetFileEvent.self, from: data))
            }
        } catch {
            return .malformed(subject: subject, reason: "\(error)")
        }
    }
}
