/// The animation a new simulated drone starts with when its sandbox has none:
/// 2 s on the ground, a 1 m climb, a 1 m leg, a descent and 1 s on the ground,
/// in 0.1 s frames (so that a fresh fleet passes the station's start checks).
public enum DemoAnimation {
    /// The animation loaded with the default configuration (parsed once for a whole fleet).
    public static let loaded = DroneAnimation(text: text, config: DroneConfig())

    /// The `animation.csv` text.
    public static let text: String = {
        var lines = ["demo"]
        var number = 0
        func frame(_ x: Double, _ z: Double, _ colour: String) {
            lines.append("\(number),\(x),0.0,\(z),0.0,\(colour)")
            number += 1
        }
        for _ in 0..<20 { frame(0, 0, "0,0,0") }
        for i in 1...20 { frame(0, Double(i) / 20, "255,0,0") }
        for i in 1...30 { frame(Double(i) / 30, 1, "0,255,0") }
        for i in 1...20 { frame(1, 1 - Double(i) / 20, "0,0,255") }
        for _ in 0..<10 { frame(1, 0, "0,0,0") }
        return lines.joined(separator: "\n") + "\n"
    }()
}
