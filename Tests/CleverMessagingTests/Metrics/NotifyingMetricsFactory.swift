import CleverTestSupport
import CoreMetrics
import MetricsTestKit

/// A metrics factory that records into a `TestMetrics` and wakes its waiters
/// after every value recorded: a test waits for a count to be published
/// (counts go out when a read batch or a flush ends, which may be just after
/// the other side saw the frames) instead of polling for it.
final class NotifyingMetricsFactory: MetricsFactory {
    /// Where the values are kept.
    let metrics: TestMetrics
    /// Bumped after each value recorded.
    private let changes = Watched(0)

    init(_ metrics: TestMetrics) {
        self.metrics = metrics
    }

    /// Waits until `condition` holds, looking again after each value recorded.
    /// - Returns: whether it held within `timeout`.
    func wait(timeout: Duration = .seconds(5), until condition: @escaping @Sendable () -> Bool) async -> Bool {
        await changes.wait(timeout: timeout) { _ in condition() }
    }

    private func changed() {
        changes.update { $0 &+= 1 }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Counter(inner: metrics.makeCounter(label: label, dimensions: dimensions), changed: changed)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        FloatingPointCounter(inner: metrics.makeFloatingPointCounter(label: label, dimensions: dimensions), changed: changed)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        Meter(inner: metrics.makeMeter(label: label, dimensions: dimensions), changed: changed)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Recorder(inner: metrics.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate), changed: changed)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Timer(inner: metrics.makeTimer(label: label, dimensions: dimensions), changed: changed)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let handler = handler as? Counter { metrics.destroyCounter(handler.inner) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let handler = handler as? FloatingPointCounter { metrics.destroyFloatingPointCounter(handler.inner) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let handler = handler as? Meter { metrics.destroyMeter(handler.inner) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let handler = handler as? Recorder { metrics.destroyRecorder(handler.inner) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let handler = handler as? Timer { metrics.destroyTimer(handler.inner) }
    }

    private final class Counter: CounterHandler {
        let inner: any CounterHandler
        let changed: @Sendable () -> Void
        init(inner: any CounterHandler, changed: @escaping @Sendable () -> Void) { (self.inner, self.changed) = (inner, changed) }
        func increment(by amount: Int64) { inner.increment(by: amount); changed() }
        func reset() { inner.reset(); changed() }
    }

    private final class FloatingPointCounter: FloatingPointCounterHandler {
        let inner: any FloatingPointCounterHandler
        let changed: @Sendable () -> Void
        init(inner: any FloatingPointCounterHandler, changed: @escaping @Sendable () -> Void) { (self.inner, self.changed) = (inner, changed) }
        func increment(by amount: Double) { inner.increment(by: amount); changed() }
        func reset() { inner.reset(); changed() }
    }

    private final class Meter: MeterHandler {
        let inner: any MeterHandler
        let changed: @Sendable () -> Void
        init(inner: any MeterHandler, changed: @escaping @Sendable () -> Void) { (self.inner, self.changed) = (inner, changed) }
        func set(_ value: Int64) { inner.set(value); changed() }
        func set(_ value: Double) { inner.set(value); changed() }
        func increment(by amount: Double) { inner.increment(by: amount); changed() }
        func decrement(by amount: Double) { inner.decrement(by: amount); changed() }
    }

    private final class Recorder: RecorderHandler {
        let inner: any RecorderHandler
        let changed: @Sendable () -> Void
        init(inner: any RecorderHandler, changed: @escaping @Sendable () -> Void) { (self.inner, self.changed) = (inner, changed) }
        func record(_ value: Int64) { inner.record(value); changed() }
        func record(_ value: Double) { inner.record(value); changed() }
    }

    private final class Timer: TimerHandler {
        let inner: any TimerHandler
        let changed: @Sendable () -> Void
        init(inner: any TimerHandler, changed: @escaping @Sendable () -> Void) { (self.inner, self.changed) = (inner, changed) }
        func recordNanoseconds(_ duration: Int64) { inner.recordNanoseconds(duration); changed() }
    }
}
