/// One outcome per drone of a ``GroundStation`` call that reaches several
/// drones: every drone asked for is in it, in the order asked, with what it
/// got or why it did not (``MessagingError/notConnected`` for a drone that has
/// no link: none is skipped silently).
public struct DroneResults<Value: Sendable>: Sendable, RandomAccessCollection {
    /// One drone's outcome.
    public struct Element: Sendable {
        /// The drone's id.
        public let droneID: String
        /// What it answered (or, for a send, that the frame was written), or why not.
        public let result: Result<Value, MessagingError>

        /// Creates an outcome.
        /// - Parameters:
        ///   - droneID: the drone's id.
        ///   - result: its outcome.
        public init(droneID: String, result: Result<Value, MessagingError>) {
            self.droneID = droneID
            self.result = result
        }
    }

    private let elements: [Element]

    /// Creates the outcomes of a call.
    /// - Parameter elements: one per drone, in order.
    public init(_ elements: [Element]) {
        self.elements = elements
    }

    /// The first position.
    public var startIndex: Int { elements.startIndex }
    /// Past the last position.
    public var endIndex: Int { elements.endIndex }
    /// The outcome at `position`.
    public subscript(position: Int) -> Element { elements[position] }

    /// The outcome for one drone, or `nil` when it was not asked.
    public subscript(droneID droneID: String) -> Result<Value, MessagingError>? {
        elements.first { $0.droneID == droneID }?.result
    }

    /// The drones that succeeded, in order.
    public var succeeded: [String] {
        elements.compactMap { if case .success = $0.result { return $0.droneID } else { return nil } }
    }

    /// The drones that had no link (unknown, or disconnected), in order.
    public var notConnected: [String] {
        elements.compactMap { if case .failure(.notConnected) = $0.result { return $0.droneID } else { return nil } }
    }

    /// The drones that failed, with why (those not connected included), in order.
    public var failures: [(droneID: String, error: MessagingError)] {
        elements.compactMap { if case .failure(let error) = $0.result { return ($0.droneID, error) } else { return nil } }
    }

    /// The successful values by drone, in order.
    public var values: [(droneID: String, value: Value)] {
        elements.compactMap { if case .success(let value) = $0.result { return ($0.droneID, value) } else { return nil } }
    }

    /// Whether every drone succeeded.
    public var allSucceeded: Bool {
        elements.allSatisfy { if case .success = $0.result { return true } else { return false } }
    }
}

/// One outcome per drone of ``GroundStation/send(_:arguments:to:)``: success
/// means the frame was written to that drone's socket.
public typealias SendResults = DroneResults<Void>
