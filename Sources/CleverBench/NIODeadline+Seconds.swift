import NIOCore

extension NIODeadline {
    /// Seconds elapsed since `start`.
    static func seconds(since start: NIODeadline) -> Double {
        Double((NIODeadline.now() - start).nanoseconds) / 1e9
    }
}
