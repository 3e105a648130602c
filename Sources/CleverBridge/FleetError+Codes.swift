extension FleetError {
    /// `invalid_target`: a target that names no drone, or a malformed `station/drone`.
    public static func invalidTarget(_ message: String) -> FleetError {
        FleetError(code: "invalid_target", message: message)
    }

    /// `unknown_station`: no station of that name answered.
    public static func unknownStation(_ station: String) -> FleetError {
        FleetError(code: "unknown_station", message: "no station \(station) answered")
    }

    /// `timed_out`: no reply through NATS in time.
    public static func timedOut(_ what: String, after timeout: Duration) -> FleetError {
        FleetError(code: "timed_out", message: "\(what): no reply within \(timeout)")
    }

    /// `no_responders`: nobody serves the subject (the station is gone, or not bridged).
    public static func noResponders(_ subject: String) -> FleetError {
        FleetError(code: "no_responders", message: "nobody serves \(subject)")
    }

    /// `decoding`: a reply that is not the contract's JSON.
    public static func decoding(_ subject: String, _ reason: String) -> FleetError {
        FleetError(code: "decoding", message: "\(subject): \(reason)")
    }

    /// `nats`: the NATS client failed (not connected, closed, buffer full…); the message says how.
    public static func nats(_ error: any Error) -> FleetError {
        FleetError(code: "nats", message: "\(error)")
    }
}
