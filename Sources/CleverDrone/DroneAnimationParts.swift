/// Where an animation's parts begin (DRONE.md §7.2): static frames at the
/// start, a vertical takeoff, the route, a vertical landing, static frames at the end.
struct DroneAnimationParts: Sendable, Hashable {
    /// The first frame of the takeoff (the end of the static beginning).
    var takeoff: Int
    /// The first frame of the route.
    var route: Int
    /// The first frame of the landing.
    var land: Int
    /// The first frame of the static end.
    var staticEnd: Int

    /// Splits `frames` by movement above `delta` metres.
    init(frames: [AnimationFrame], delta: Double = 0.01) {
        let count = frames.count
        var i = 0
        while i + 1 < count, !frames[i].moves(to: frames[i + 1], by: delta) { i += 1 }
        takeoff = i
        while i + 1 < count, !frames[i].moves(to: frames[i + 1], by: delta, vertical: false), frames[i + 1].z - frames[i].z > 0 { i += 1 }
        route = i
        var j = count - 1
        while j > 0, !frames[j].moves(to: frames[j - 1], by: delta) { j -= 1 }
        staticEnd = max(j, route)
        while j > 0, !frames[j].moves(to: frames[j - 1], by: delta, vertical: false), frames[j - 1].z - frames[j].z > 0 { j -= 1 }
        land = min(max(j, route), staticEnd)
        if count == 1 {
            takeoff = 0; route = 0; land = 1; staticEnd = 1
        }
    }
}
