/// Decides which ignored beacons are worth a warning: the first of each
/// reason from each sender, so that a flood of bad beacons writes a few lines,
/// not one per datagram.
///
/// It remembers at most ``capacity`` sender-and-reason pairs; once full, it
/// allows one last warning (that further senders are not reported) and then
/// no more, so a flood from many spoofed addresses cannot grow it or the log.
struct RejectionLogLimit: Sendable {
    /// What to log for one rejection.
    enum Decision: Sendable, Hashable {
        /// The first time this sender gave this reason: warn.
        case warn
        /// The table is full: warn once that further senders are not reported.
        case warnFull
        /// Already reported, or past the last warning: stay quiet.
        case quiet
    }

    /// How many sender-and-reason pairs it remembers.
    let capacity: Int
    private var seen: Set<String> = []
    private var toldFull = false

    /// A limit remembering at most `capacity` pairs.
    init(capacity: Int = 256) {
        self.capacity = max(1, capacity)
    }

    /// Records a rejection of `reason` from `sender`.
    mutating func record(sender: String, reason: String) -> Decision {
        let entry = sender + "\u{0}" + reason
        if seen.contains(entry) { return .quiet }
        guard seen.count < capacity else {
            if toldFull { return .quiet }
            toldFull = true
            return .warnFull
        }
        seen.insert(entry)
        return .warn
    }
}
