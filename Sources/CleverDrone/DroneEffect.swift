/// What a simulated drone asks its host to do after an event.
public enum DroneEffect: Sendable, Hashable {
    /// Write `config/client.ini` with this text.
    case writeConfig(String)
    /// Restart the drone program: drop the link; the drone reconnects and answers `id` again.
    case restart
}
