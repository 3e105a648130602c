/// The kwargs of an `x-clever-start` request (``ExtensionHeader/start``), sent
/// by a station to a drone of this library: `{"id": ID, "action": NAME,
/// "kwargs": {...}, "at": UNIX_SECONDS}`, `at` on the drone's own clock. The
/// drone answers `true` once the start is scheduled (or was already).
package struct TimedStartRequest: Sendable, Hashable {
    /// The start's id: a drone schedules one id once, however often it is sent.
    package var id: String
    /// The action whose handler runs.
    package var action: String
    /// Its keyword arguments.
    package var kwargs: JSONObject
    /// When, on the drone's clock, as Unix seconds.
    package var at: Double

    package init(id: String, action: String, kwargs: JSONObject, at: Double) {
        self.id = id
        self.action = action
        self.kwargs = kwargs
        self.at = at
    }

    /// The request's kwargs.
    package var jsonObject: JSONObject {
        ["id": .string(id), "action": .string(action), "kwargs": .object(kwargs), "at": .double(at)]
    }

    /// Reads a request's kwargs.
    /// - Parameter object: the kwargs.
    /// - Returns: the start, or `nil` when a member is missing or of the wrong type (or `at` is no Unix time).
    package init?(_ object: JSONObject) {
        guard case .string(let id)? = object["id"], case .string(let action)? = object["action"],
            let at = object["at"]?.doubleValue, WallClock.isPlausible(at)
        else { return nil }
        let kwargs: JSONObject
        switch object["kwargs"] {
        case nil, .null?: kwargs = [:]
        case .object(let value)?: kwargs = value
        default: return nil
        }
        self.init(id: id, action: action, kwargs: kwargs, at: at)
    }
}
