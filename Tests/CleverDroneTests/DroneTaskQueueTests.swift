import CleverDrone
import Testing

/// The task queue's order, pause, resume and `last_task` text.
@Suite("Drone task queue")
struct DroneTaskQueueTests {
    @Test("tasks run in timestamp order; last_task names the head, with its wait while it is not due")
    func order() {
        var queue = DroneTaskQueue()
        queue.add(.turnOffLED, at: 20, now: -10)
        queue.add(.land, at: 10, now: -10)
        queue.add(.disarm, at: -5, now: -10)
        #expect(queue.tasks.map(\.kind.name) == ["arming_wrapper", "land", "turn_off_led"])
        #expect(queue.lastTask(at: 0) == "arming_wrapper")
        let due = queue.due(at: 0)
        #expect(due?.start == -5)
        queue.begin(until: -5)
        queue.finishHead()
        #expect(queue.lastTask(at: 7.55) == "land in 2.5 s")
        #expect(queue.due(at: 7.55) == nil)
        queue.reset()
        #expect(queue.lastTask(at: 0) == "No task")
    }

    @Test("pause drops the running task and shows paused; resume sets the shift")
    func pause() {
        var queue = DroneTaskQueue()
        queue.add(.takeoff, at: 0, now: -10)
        queue.add(.land, at: 10, now: -10)
        queue.begin(until: 5)
        queue.pause()
        #expect(queue.tasks.count == 1)
        #expect(queue.lastTask(at: 1) == "paused")
        #expect(queue.due(at: 100) == nil)
        queue.resume(at: 15, now: 2)
        #expect(queue.shift == 5)
        #expect(queue.due(at: 14) == nil)
        #expect(queue.due(at: 15)?.start == 15)
    }
}
