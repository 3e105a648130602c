import CleverDrone
import CleverMessaging
import Testing

/// The simulated drone's state machine, driven by events and times only.
@Suite("Drone model")
struct DroneModelTests {
    static let t0 = 1_700_000_000.0

    static func drone() -> DroneModel {
        var model = DroneModel(hostname: "Clover-1", cloverDirectory: "/sandbox/catkin_ws/src/clover/clover", gitVersion: "abc1234")
        model.animationChanged(DemoAnimation.text)
        return model
    }

    @Test("a fresh drone's record has the 13 keys in the reference's shapes, every one healthy by the station's rules")
    func healthyRecord() throws {
        var model = Self.drone()
        let record = try #require(model.telemetry(at: Self.t0).objectValue)
        #expect(Set(record.keys) == ["fcu_status", "current_position", "selfcheck", "battery", "git_version", "animation_info",
                                     "calibration_status", "start_position", "mode", "time_delta", "armed", "config_version", "last_task"])
        #expect(record["fcu_status"] == "STANDBY")
        #expect(record["selfcheck"] == "OK")
        #expect(record["calibration_status"] == "OK")
        #expect(record["git_version"] == "abc1234")
        #expect(record["animation_info"] == ["demo", "OK"])
        #expect(record["config_version"] == "client V1.0")
        #expect(record["last_task"] == "No task")
        #expect(record["armed"] == false)
        #expect(record["time_delta"]?.doubleValue == Self.t0)
        let mode = try #require(record["mode"]?.stringValue)
        #expect(mode != "NO_FCU" && !mode.contains("CMODE"))
        let battery = try #require(record["battery"]?.arrayValue)
        #expect(battery.count == 2)
        #expect((battery[1].doubleValue ?? 0) * 100 > 50)
        let current = try #require(record["current_position"]?.arrayValue)
        #expect(current.count == 5)
        #expect(current[4] == "map")
        let start = try #require(record["start_position"]?.arrayValue)
        #expect(start.count == 6)
        #expect(start[4] == "fly")
        let distance = (0..<3).map { i in (current[i].doubleValue! - start[i].doubleValue!) * (current[i].doubleValue! - start[i].doubleValue!) }
        #expect(distance.reduce(0, +).squareRoot() < 1)
    }

    @Test("the id request answers the host name; a rename writes the config and restarts under the lower-cased name")
    func rename() {
        var model = Self.drone()
        #expect(model.answer("id", kwargs: [:], at: Self.t0) == .value("Clover-1"))
        #expect(model.answer("id", kwargs: ["new_id": "x"], at: Self.t0) == .none)
        let effects = model.handleAction("id", kwargs: ["new_id": "Alpha-7"], at: Self.t0)
        #expect(effects.count == 2)
        #expect(effects.last == .restart)
        #expect(model.config.string("id") == "Alpha-7")
        #expect(model.answer("id", kwargs: [:], at: Self.t0) == .value("alpha-7"))
        // Back to /hostname: written, no restart.
        #expect(model.handleAction("id", kwargs: ["new_id": "/hostname"], at: Self.t0).contains(.restart) == false)
    }

    @Test("config: {config} alone, or with configspec when asked; root keys in the reference's order")
    func configReply() throws {
        var model = Self.drone()
        guard case .value(let plain) = model.answer("config", kwargs: ["send_configspec": false], at: Self.t0) else {
            Issue.record("no reply")
            return
        }
        #expect(plain.objectValue?.keys.elements == ["config"])
        guard case .value(let full) = model.answer("config", kwargs: ["send_configspec": true], at: Self.t0) else {
            Issue.record("no reply")
            return
        }
        let config = try #require(full["config"]?.objectValue)
        #expect(Array(config.keys.prefix(6)) == ["config_name", "config_version", "id", "clover_dir", "SERVER", "BROADCAST"])
        #expect(config["SERVER"]?["port"]?["__value__"] == 25000)
        #expect(config["ANIMATION"]?["private_offset"]?["__value__"] == [0.0, 0.0, 0.0])
        #expect(config["ANIMATION"]?["ratio"]?["comments"]?.arrayValue?.contains("# __list__ x y z") == true)
        #expect(config["ANIMATION"]?["OUTPUT"]?["takeoff"]?["__value__"] == true)
        #expect(config["initial_comment"] == [])
        #expect(full["configspec"]?["SERVER"]?["host"] == "ip(default=192.168.1.101) # string?")
        #expect(full["configspec"]?["SERVER"]?["port"] == "integer(default=25000, min=1)")
    }

    @Test("config writes: modify converts strings, rewrite resets what it does not carry, a bad value changes nothing")
    func configWrite() {
        var model = Self.drone()
        let modify = model.handleAction("config", kwargs: ["mode": "modify", "config": ["config_name": ["__value__": "show"], "FLIGHT": ["takeoff_height": ["__value__": "2.5"]]]], at: Self.t0)
        #expect(modify.count == 1)
        #expect(model.config.double("FLIGHT_takeoff_height") == 2.5)
        #expect(model.telemetry(at: Self.t0)["config_version"] == "show V1.0")
        let bad = model.handleAction("config", kwargs: ["config": ["SERVER": ["port": ["__value__": "many"]]]], at: Self.t0)
        #expect(bad.isEmpty)
        #expect(model.config["SERVER_port"] == 25000)
        _ = model.handleAction("config", kwargs: ["mode": "rewrite", "config": ["SERVER": ["port": ["__value__": 26000]]]], at: Self.t0)
        #expect(model.config["SERVER_port"] == 26000)
        #expect(model.config.double("FLIGHT_takeoff_height") == 1.0)
        #expect(model.config.string("config_name") == "client")
    }

    @Test("client.ini text round-trips; a pushed one is loaded, one that does not validate is not")
    func iniFile() throws {
        var config = DroneConfig()
        try config.set("FLIGHT_takeoff_height", 1.5)
        try config.set("ANIMATION_OUTPUT_land", true)
        try config.set("ANIMATION_private_offset", [1.0, 2.0, 0.0])
        #expect(try DroneConfig(iniText: config.iniText) == config)
        var model = Self.drone()
        model.configFileChanged("config_name = rehearsal\n[FLIGHT]\ntakeoff_height = 2 # metres\n")
        #expect(model.config.string("config_name") == "rehearsal")
        #expect(model.config.double("FLIGHT_takeoff_height") == 2)
        model.configFileChanged("[SERVER]\nport = many\n")
        #expect(model.config.string("config_name") == "rehearsal")
    }

    @Test("calibration and parameter loads answer after a simulated delay, never left pending")
    func slowRequests() {
        var model = Self.drone()
        #expect(model.answer("calibrate_gyro", kwargs: [:], at: Self.t0) == .later(.seconds(3), "OK"))
        #expect(model.answer("calibrate_level", kwargs: [:], at: Self.t0) == .later(.seconds(3), "OK"))
        #expect(model.loadParameters(nil, at: Self.t0) == .later(.seconds(1), false))
        #expect(model.loadParameters("# header\n", at: Self.t0) == .later(.seconds(1), true))
        #expect(model.answer("nothing", kwargs: [:], at: Self.t0) == .none)
    }

    @Test("a timed start queues the frames at its instant; the drone arms, flies them and lands")
    func timedStartFlight() throws {
        var model = Self.drone()
        let start = Self.t0 + 2
        _ = model.handleAction("start", kwargs: ["time": .string("\(start)")], at: Self.t0)
        #expect(model.telemetry(at: Self.t0)["last_task"] == "execute_frame in 2.0 s")
        var record = model.telemetry(at: start + 1)
        #expect(record["armed"] == true)
        #expect(record["mode"] == "OFFBOARD")
        #expect(record["fcu_status"] == "ACTIVE")
        #expect(record["last_task"]?.stringValue?.hasPrefix("execute_frame") == true)
        let z1 = try #require(record["current_position"]?[2]?.doubleValue)
        #expect(z1 > 0.1)
        record = model.telemetry(at: start + 5)
        #expect(try #require(record["current_position"]?[0]?.doubleValue) > 0.5)
        record = model.telemetry(at: start + 20)
        #expect(record["armed"] == false)
        #expect(record["fcu_status"] == "STANDBY")
        #expect(record["last_task"] == "No task")
        #expect(record["current_position"]?[2] == 0.0)
    }

    @Test("a start without a numeric time is ignored; one without time (a library timed start) starts at once")
    func startArguments() {
        var model = Self.drone()
        _ = model.handleAction("start", kwargs: ["time": "soon"], at: Self.t0)
        #expect(model.queue.tasks.isEmpty)
        _ = model.handleAction("start", kwargs: [:], at: Self.t0)
        #expect(model.telemetry(at: Self.t0 + 1)["armed"] == true)
    }

    @Test("pause shows paused; resume shifts the remaining tasks by the time paused")
    func pauseResume() {
        var model = Self.drone()
        _ = model.handleAction("start", kwargs: ["time": .string("\(Self.t0 + 1)")], at: Self.t0)
        _ = model.handleAction("pause", kwargs: [:], at: Self.t0)
        #expect(model.telemetry(at: Self.t0 + 3)["last_task"] == "paused")
        #expect(model.telemetry(at: Self.t0 + 3)["armed"] == false)
        _ = model.handleAction("resume", kwargs: ["time": .double(Self.t0 + 10)], at: Self.t0 + 3)
        #expect(model.queue.shift == 9)
        #expect(model.telemetry(at: Self.t0 + 9)["armed"] == false)
        #expect(model.telemetry(at: Self.t0 + 11)["armed"] == true)
    }

    @Test("takeoff climbs the takeoff height; land descends in AUTO.LAND and disarms; disarm resets the queue")
    func takeoffAndLand() throws {
        var model = Self.drone()
        _ = model.handleAction("takeoff", kwargs: [:], at: Self.t0)
        #expect(model.telemetry(at: Self.t0 + 0.5)["last_task"] == "takeoff")
        var record = model.telemetry(at: Self.t0 + 2)
        #expect(record["current_position"]?[2] == 1.0)
        #expect(record["armed"] == true)
        _ = model.handleAction("land", kwargs: [:], at: Self.t0 + 3)
        record = model.telemetry(at: Self.t0 + 3.5)
        #expect(record["mode"] == "AUTO.LAND")
        #expect(record["last_task"] == "land")
        record = model.telemetry(at: Self.t0 + 6)
        #expect(record["armed"] == false)
        #expect(record["current_position"]?[2] == 0.0)
        _ = model.handleAction("takeoff_z", kwargs: ["z": "1.5"], at: Self.t0 + 7)
        #expect(model.telemetry(at: Self.t0 + 10)["current_position"]?[2] == 1.5)
        _ = model.handleAction("disarm", kwargs: [:], at: Self.t0 + 10)
        #expect(model.telemetry(at: Self.t0 + 11)["armed"] == false)
    }

    @Test("an FCU reboot shows NO_FCU values for a while; a clover restart shows WAIT_ROS")
    func reboots() {
        var model = Self.drone()
        _ = model.handleAction("reboot_fcu", kwargs: [:], at: Self.t0)
        var record = model.telemetry(at: Self.t0 + 1)
        #expect(record["fcu_status"] == "NO_FCU")
        #expect(record["current_position"] == "NO_POS")
        #expect(record["selfcheck"] == ["NO_FCU"])
        #expect(model.telemetry(at: Self.t0 + 6)["fcu_status"] == "STANDBY")
        _ = model.handleAction("service_restart", kwargs: ["name": "clover"], at: Self.t0 + 6)
        record = model.telemetry(at: Self.t0 + 7)
        #expect(record["selfcheck"] == ["WAIT_ROS"])
        #expect(model.handleAction("service_restart", kwargs: ["name": "clever-show"], at: Self.t0 + 7) == [.restart])
    }

    @Test("move_start puts the start point under the drone; reset_start takes it back")
    func moveStart() throws {
        var model = Self.drone()
        _ = model.handleAction("takeoff_z", kwargs: ["z": "0.0"], at: Self.t0)
        _ = model.handleAction("config", kwargs: ["config": ["ANIMATION": ["common_offset": ["__value__": [0.5, 0.0, 0.0]]]]], at: Self.t0)
        #expect(model.telemetry(at: Self.t0 + 1)["start_position"]?[0] == 0.5)
        #expect(model.handleAction("move_start", kwargs: [:], at: Self.t0 + 1).count == 1)
        #expect(model.telemetry(at: Self.t0 + 1)["start_position"]?[0] == 0.0)
        _ = model.handleAction("reset_start", kwargs: [:], at: Self.t0 + 1)
        #expect(model.telemetry(at: Self.t0 + 1)["start_position"]?[0] == 0.5)
    }

    @Test("legacy requests answer in the reference's shapes")
    func legacy() {
        var model = Self.drone()
        #expect(model.answer("time", kwargs: [:], at: Self.t0) == .value(.double(Self.t0)))
        #expect(model.answer("selfcheck", kwargs: [:], at: Self.t0) == .value("OK"))
        #expect(model.answer("anim_id", kwargs: [:], at: Self.t0) == .value("demo"))
        #expect(model.answer("sys_status", kwargs: [:], at: Self.t0) == .value("STANDBY"))
        #expect(model.answer("position", kwargs: [:], at: Self.t0) == .value("0.00 0.00 0.00 90.0 map"))
        #expect(model.answer("clover_dir", kwargs: [:], at: Self.t0) == .value("/sandbox/catkin_ws/src/clover/clover"))
    }
}
