/// What a role is told of each link it serves, by the link's
/// ``ConnectionHandler``, on the link's event loop: when the link is up
/// (attached to its connection) and when it is down.
///
/// One observer serves every link of a role, so that a link costs no
/// closure, future or pipeline handler of its own for it.
final class LinkObserver: Sendable {
    /// The link of `connection` is up.
    let up: @Sendable (_ connection: Connection) -> Void
    /// The link of `connection` is down; `wasUp` tells whether ``up`` was told before.
    let down: @Sendable (_ connection: Connection, _ wasUp: Bool) -> Void

    /// An observer.
    /// - Parameters:
    ///   - up: told when a link is up.
    ///   - down: told when a link is down (once per link, also for one that never came up).
    init(up: @escaping @Sendable (Connection) -> Void, down: @escaping @Sendable (Connection, Bool) -> Void) {
        self.up = up
        self.down = down
    }

    /// Where a link stands for its observer.
    enum Phase {
        /// Not up yet.
        case waiting
        /// Up, and told so.
        case up
        /// Down, and told so.
        case down
    }
}
