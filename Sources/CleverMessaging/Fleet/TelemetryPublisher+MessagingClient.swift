extension MessagingClient {
    /// Pushes the record `record()` to the ground station every `period`, as a
    /// reference drone pushes its telemetry (action `telemetry`, kwargs
    /// `{"value": record}`), until the calling task is cancelled or the client
    /// is shut down. Nothing is
    /// pushed while the link is down. Run it beside ``run()``, in the same task group.
    /// - Parameters:
    ///   - period: the time between two records (the reference pushes every second).
    ///   - record: the current record, any `Encodable` the application defines;
    ///     called once per push.
    public func pushTelemetry<Record: Encodable>(every period: Duration, record: @Sendable () -> Record) async {
        await TelemetryPublisher(every: period).run([connection]) { _ in record() }
    }
}
