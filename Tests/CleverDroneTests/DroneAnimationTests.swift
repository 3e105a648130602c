import CleverDrone
import CleverMessaging
import Testing

/// Loading `animation.csv` and deriving the frame lists (DRONE.md §7.2).
@Suite("Drone animation")
struct DroneAnimationTests {
    @Test("the demo animation: id, OK, an arm frame first, a landing last, a fly start at the first frame")
    func demo() throws {
        let animation = DroneAnimation(text: DemoAnimation.text, config: DroneConfig())
        #expect(animation.id == "demo")
        #expect(animation.state == "OK")
        #expect(animation.flyFrames.first?.action == .arm)
        #expect(animation.flyFrames.last?.action == .land)
        #expect(animation.startAction(config: DroneConfig(), z: 0, fcuStatus: "STANDBY") == "fly")
        #expect(animation.takeoffFrames.contains { $0.action == .takeoff })
    }

    @Test("errors as the reference words them")
    func errors() {
        #expect(DroneAnimation.missing.state == "File animation.csv can't be opened")
        #expect(DroneAnimation.missing.id == nil)
        #expect(DroneAnimation(text: "", config: DroneConfig()).state == "Animation file is empty")
        #expect(DroneAnimation(text: "id\n", config: DroneConfig()).state == "No frames loaded!")
        #expect(DroneAnimation(text: "id\n0,1,2,x,0,0,0,0\n", config: DroneConfig()).state.hasPrefix("Can't parse frame row in csv file."))
        let noID = DroneAnimation(text: "0,0,0,1,0,0,0,0\n1,0,0,1,0,0,0,0\n", config: DroneConfig())
        #expect(noID.id == "No animation id")
    }

    @Test("offsets and ratio move the frames; a high first frame starts with takeoff, and the ground check fails below")
    func transform() throws {
        var config = DroneConfig()
        try config.set("ANIMATION_private_offset", "1, 2, 0")
        try config.set("ANIMATION_ratio", [2.0, 1.0, 1.0])
        let text = "high\n0,1,0,1,0,0,0,0\n1,1.5,0,1,0,0,0,0\n2,2,0,1,0,0,0,0\n"
        let animation = DroneAnimation(text: text, config: config)
        let start = try #require(animation.startPoint)
        #expect(start.frame.x == 3)
        #expect(start.frame.y == 2)
        #expect(animation.startAction(config: config, z: 0, fcuStatus: "STANDBY") == "takeoff")
        #expect(animation.startAction(config: config, z: .nan, fcuStatus: "STANDBY") == "error: bad copter height")
        #expect(animation.startAction(config: config, z: 1.5, fcuStatus: "STANDBY") == "error: animation is lower than ground level for 0.50m")
    }
}
