/// What a link's read batch brought, counted by its `ConnectionHandler` in
/// plain integers and published to ``LinkMetrics`` when the batch ends.
struct ReadCounts {
    /// Frames that began (JSON frames, and binary frames' heads).
    var frames = 0
    /// Bytes read, everything included.
    var bytes = 0
    /// Bytes of file bodies.
    var fileBytes = 0
}
