/// One outcome per drone of a ``GroundStation`` call that reaches several
/// drones: every drone asked for is in it, with what it got or why it did not
/// (its ``Element/skipReason``: none is skipped silently).
public struct DroneResults<Value: Sendable>: Sendable, RandomAccessCollection {
    /// One drone's outcome.
    public struct Element: Sendable {
        /// The drone's id.
        public let droneID: String
        /// What it answered (or, for a send, the receipt of the written frame), or why not.
        public let result: Result<Value, MessagingError>
        /// Why the drone was not reached (or gave no value), or `nil` when it succeeded.
        public let skipReason: DroneSkipReason?

        /// Creates an outcome whose skip reason is read from its error
        /// (``MessagingError/notConnected`` reads as a known drone without a link).
        /// - Parameters:
        ///   - droneID: the drone's id.
        ///   - result: its outcome.
        public init(droneID: String, result: Result<Value, MessagingError>) {
            self.init(droneID: droneID, result: result, skipReason: nil)
        }

        /// Creates an outcome.
        /// - Parameters:
        ///   - droneID: the drone's id.
        ///   - result: its outcome.
        ///   - skipReason: why it was not reached; `nil` reads it from the error
        ///     (and is ignored on success).
        public init(droneID: String, result: Result<Value, MessagingError>, skipReason: DroneSkipReason?) {
            self.droneID = droneID
            self.result = result
            switch result {
            case .success: self.skipReason = nil
            case .failure(let error): self.skipReason = skipReason ?? DroneSkipReason(error, known: true)
            }
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
        elements.compactMap { $0.skipReason == nil ? $0.droneID : nil }
    }

    /// The drones that had no link (unknown, or known and disconnected), in order.
    public var notConnected: [String] {
        elements.compactMap { $0.skipReason == .disconnected || $0.skipReason == .unknown ? $0.droneID : nil }
    }

    /// The drones that were not reached (or gave no value), with why, in order.
    public var skipped: [(droneID: String, reason: DroneSkipReason)] {
        elements.compactMap { element in element.skipReason.map { (element.droneID, $0) } }
    }

    /// The drones that failed, with the error (those not connected included), in order.
    public var failures: [(droneID: String, error: MessagingError)] {
        elements.compactMap { if case .failure(let error) = $0.result { return ($0.droneID, error) } else { return nil } }
    }

    /// The successful values by drone, in order.
    public var values: [(droneID: String, value: Value)] {
        elements.compactMap { if case .success(let value) = $0.result { return ($0.droneID, value) } else { return nil } }
    }

    /// Whether every drone succeeded.
    public var allSucceeded: Bool {
        elements.allSatisfy { $0.skipReason == nil }
    }

    /// How many drones were asked, how many succeeded, and which were skipped, by reason.
    public var tally: DroneTally {
        DroneTally(elements.map { ($0.droneID, $0.skipReason) })
    }
}

/// One outcome per drone of ``GroundStation/send(_:arguments:to:waitingUpTo:)``
/// and ``GroundStation/broadcast(_:arguments:waitingUpTo:)``: success carries
/// the receipt of the frame, which was written to that drone's socket.
public typealias SendResults = DroneResults<SendReceipt>
