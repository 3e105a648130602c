import CleverMessaging
import NIOConcurrencyHelpers

/// One simulated drone: its ``DroneModel`` behind a lock, and its sandbox.
///
/// A ``VirtualFleet`` feeds it the events of the connection it is on;
/// ``perform(_:on:)`` carries out what the model asks for.
public final class VirtualDrone: Sendable {
    /// Where its files live, if it has a folder (without one, every file transfer is refused).
    public let sandbox: DroneSandbox?
    private let model: NIOLockedValueBox<DroneModel>

    /// The `git_version` a drone reports unless told otherwise: the reference sources' commit DRONE.md describes.
    public static let defaultGitVersion = "2062940"

    /// A drone on the ground.
    /// - Parameters:
    ///   - id: its host name: the id it answers (the configuration's `id` stays `/hostname`).
    ///   - sandbox: its folder; a missing `animation.csv` there is seeded with ``DemoAnimation``,
    ///     and `config/client.ini` is written.
    ///   - gitVersion: the `git_version` it reports.
    ///   - offset: its animation offset (`ANIMATION_private_offset`), to spread a fleet's drones.
    public init(id: String, sandbox: DroneSandbox?, gitVersion: String, offset: [Double] = [0, 0, 0]) {
        self.sandbox = sandbox
        var config = DroneConfig.reference
        try? config.set("ANIMATION_private_offset", .array(offset.map(JSONValue.double)))
        var model = DroneModel(hostname: id, cloverDirectory: sandbox?.cloverDirectory ?? "/home/pi/catkin_ws/src/clover/clover",
                               gitVersion: gitVersion, config: config)
        if let sandbox {
            if sandbox.read(sandbox.animationPath) == nil { sandbox.write(DemoAnimation.text, to: sandbox.animationPath) }
            model.animationChanged(sandbox.read(sandbox.animationPath))
            sandbox.write(config.iniText, to: sandbox.configPath)
        } else {
            model.animationChanged(DemoAnimation.text)
        }
        self.model = NIOLockedValueBox(model)
    }

    /// The id it answers with now.
    public var id: String { model.withLockedValue { $0.clientID } }

    /// Runs `body` on the model, under the drone's lock (keep it short: no I/O).
    /// - Parameter body: reads or changes the model.
    /// - Returns: what `body` returns.
    public func withModel<T: Sendable>(_ body: (inout DroneModel) -> T) -> T {
        model.withLockedValue { body(&$0) }
    }

    /// The telemetry record at `time` on the drone's clock.
    /// - Parameter time: Unix seconds.
    /// - Returns: the record.
    public func telemetry(at time: Double) -> JSONValue {
        model.withLockedValue { $0.telemetry(at: time) }
    }

    /// Carries out the model's effects: writes `config/client.ini` into the sandbox, drops the link for a restart.
    /// - Parameters:
    ///   - effects: what the model asked for.
    ///   - connection: the drone's connection.
    public func perform(_ effects: [DroneEffect], on connection: Connection) {
        for effect in effects {
            switch effect {
            case .writeConfig(let text):
                if let sandbox { sandbox.write(text, to: sandbox.configPath) }
            case .restart:
                connection.dropLink()
            }
        }
    }

    /// A file was pushed: a new `animation.csv` or `config/client.ini` is loaded (the reference's file watcher, DRONE.md §6.2).
    /// - Parameter path: the absolute path written.
    public func fileReceived(at path: String) {
        guard let sandbox else { return }
        if path == sandbox.animationPath {
            let text = sandbox.read(path)
            model.withLockedValue { $0.animationChanged(text) }
        } else if path == sandbox.configPath {
            let text = sandbox.read(path)
            model.withLockedValue { $0.configFileChanged(text) }
        }
    }
}
