import Testing

@testable import CleverMessaging

/// ``IDFlapDetector``: replacements in, one warning per id out; time is an argument.
@Suite("Roles: an id flapping between links")
struct IDFlapDetectorTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant {
        start + .milliseconds(Int64(seconds * 1000))
    }

    @Test("one replacement (a drone reconnecting before its old link closed) is no flap")
    func oneReplacement() {
        var detector = IDFlapDetector()
        #expect(detector.replaced(id: "copter-1", at: at(0)) == .none)
        #expect(!detector.hasReported("copter-1"))
    }

    @Test("the third replacement within the window warns, once per id")
    func warnsOnce() {
        var detector = IDFlapDetector(threshold: 3, window: .seconds(60))
        #expect(detector.replaced(id: "copter-1", at: at(0)) == .none)
        #expect(detector.replaced(id: "copter-1", at: at(1.5)) == .none)
        #expect(detector.replaced(id: "copter-1", at: at(3)) == .warn(replacements: 3))
        for second in 4...40 {
            #expect(detector.replaced(id: "copter-1", at: at(Double(second))) == .none)
        }
        #expect(detector.hasReported("copter-1"))
    }

    @Test("replacements spread wider than the window are no flap")
    func slowReplacements() {
        var detector = IDFlapDetector(threshold: 3, window: .seconds(60))
        for n in 0..<10 {
            #expect(detector.replaced(id: "copter-1", at: at(Double(n) * 31)) == .none)
        }
        #expect(!detector.hasReported("copter-1"))
    }

    @Test("ids are counted apart")
    func idsApart() {
        var detector = IDFlapDetector(threshold: 2, window: .seconds(10))
        #expect(detector.replaced(id: "a", at: at(0)) == .none)
        #expect(detector.replaced(id: "b", at: at(1)) == .none)
        #expect(detector.replaced(id: "a", at: at(2)) == .warn(replacements: 2))
        #expect(detector.replaced(id: "b", at: at(20)) == .none)
        #expect(detector.replaced(id: "b", at: at(21)) == .warn(replacements: 2))
        #expect(detector.replaced(id: "a", at: at(22)) == .none)
    }

    @Test("a threshold below 2 counts as 2: a single reconnect never warns")
    func thresholdFloor() {
        var detector = IDFlapDetector(threshold: 1)
        #expect(detector.threshold == 2)
        #expect(detector.replaced(id: "a", at: at(0)) == .none)
    }
}
