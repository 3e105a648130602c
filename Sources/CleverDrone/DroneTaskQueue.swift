/// A simulated drone's task queue (the reference's `tasking:TaskManager`,
/// DRONE.md §3): tasks in (timestamp, priority, order) order, run one at a
/// time by one worker; pause, resume with a time shift, and reset.
///
/// The queue only keeps the order and the times: ``DroneModel`` runs the tasks
/// as time advances, asking for ``due(at:)`` and reporting ``begin(until:)`` and ``finishHead()``.
public struct DroneTaskQueue: Sendable, Hashable {
    /// The tasks, the head first.
    public private(set) var tasks: [DroneTask] = []
    /// Whether the queue is paused.
    public private(set) var isPaused = false
    /// The shift added to every remaining task by a resume.
    public private(set) var shift = 0.0
    /// When the running head task finishes, if it has begun.
    public private(set) var runningUntil: Double?
    /// When the last task finished: a past-due task does not start earlier.
    private var freeAt = -Double.infinity
    private var counter = 0

    /// An empty queue.
    public init() {}

    /// Queues a task.
    /// - Parameters:
    ///   - kind: what it does.
    ///   - timestamp: when it is due (Unix seconds; 0 or less: at once).
    ///   - priority: orders tasks due at the same time (default 0).
    ///   - now: the drone's clock: the task starts no earlier.
    public mutating func add(_ kind: DroneTask.Kind, at timestamp: Double, priority: Int = 0, now: Double) {
        if runningUntil == nil { freeAt = max(freeAt, now) }
        counter += 1
        let task = DroneTask(timestamp: timestamp, priority: priority, counter: counter, kind: kind)
        let index = tasks.firstIndex { task.precedes($0) } ?? tasks.endIndex
        // A task never goes before the one already running.
        tasks.insert(task, at: runningUntil != nil ? max(index, 1) : index)
    }

    /// Clears the queue, interrupts the running task, zeroes the shift and resumes.
    public mutating func reset() {
        tasks.removeAll()
        runningUntil = nil
        shift = 0
        isPaused = false
    }

    /// Pauses: no task starts, and the running one is interrupted (dropped).
    public mutating func pause() {
        isPaused = true
        if runningUntil != nil {
            tasks.removeFirst()
            runningUntil = nil
        }
    }

    /// Resumes; a `time` later than the head task's timestamp shifts every remaining task by the difference.
    /// - Parameters:
    ///   - time: the resume instant (Unix seconds; 0: no shift).
    ///   - now: the drone's clock: no task starts earlier.
    public mutating func resume(at time: Double, now: Double) {
        freeAt = max(freeAt, now)
        if let head = tasks.first, time > head.timestamp { shift = time - head.timestamp }
        isPaused = false
    }

    /// The head task and when it starts, if it starts by `now` and has not begun.
    /// - Parameter now: the drone's clock.
    /// - Returns: the task and its start time.
    public func due(at now: Double) -> (task: DroneTask, start: Double)? {
        guard !isPaused, runningUntil == nil, let head = tasks.first else { return nil }
        let start = max(head.timestamp + shift, freeAt)
        return start <= now ? (head, start) : nil
    }

    /// Marks the head task as running until `end`.
    /// - Parameter end: when it finishes.
    public mutating func begin(until end: Double) {
        runningUntil = end
    }

    /// Removes the finished head task; the shift ends with the last task.
    public mutating func finishHead() {
        guard !tasks.isEmpty else { return }
        tasks.removeFirst()
        freeAt = runningUntil ?? freeAt
        runningUntil = nil
        if tasks.isEmpty { shift = 0 }
    }

    /// The `last_task` telemetry value (DRONE.md §4.1).
    /// - Parameter now: the drone's clock.
    /// - Returns: `No task`, `paused`, `<name> in N.N s` or `<name>`.
    public func lastTask(at now: Double) -> String {
        guard let head = tasks.first else { return "No task" }
        if isPaused { return "paused" }
        if runningUntil == nil, head.timestamp > now {
            let tenths = Int(((head.timestamp - now) * 10).rounded())
            return "\(head.kind.name) in \(tenths / 10).\(tenths % 10) s"
        }
        return head.kind.name
    }
}
