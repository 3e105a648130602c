import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One direction of a pair: holds what was read, and writes it on at the
/// throttled rate (a token bucket refilled as time passes, paced by a
/// scheduled timer), after the delay, while not paused and while the other
/// side is writable. Used on the pair's event loop only.
final class FaultProxyForwarder {
    /// Which way the bytes go.
    enum Direction: Sendable { case upstream, downstream }

    let direction: Direction
    private let source: any Channel
    private let destination: any Channel
    private let settings: NIOLockedValueBox<FaultProxySettings>
    /// Called with the count of each write made.
    var counted: (Int) -> Void = { _ in }
    private var held = CircularBuffer<(bytes: ByteBuffer, due: NIODeadline)>()
    private var heldBytes = 0
    private var tokens = 0.0
    private var refilled = NIODeadline.now()
    private var timer: NIODeadline?
    private var sourceEnded = false

    init(direction: Direction, source: any Channel, destination: any Channel, settings: NIOLockedValueBox<FaultProxySettings>) {
        self.direction = direction
        self.source = source
        self.destination = destination
        self.settings = settings
    }

    func received(_ bytes: ByteBuffer) {
        let delay = settings.withLockedValue { $0.delay }
        heldBytes += bytes.readableBytes
        held.append((bytes, .now() + delay))
        pump()
    }

    /// Asks the source for more, unless paused, ended or holding enough.
    func readIfRoom() {
        let (paused, highWater) = settings.withLockedValue { ($0.paused, $0.highWater) }
        guard !paused, !sourceEnded, heldBytes < highWater else { return }
        source.read()
    }

    func sourceClosed() {
        sourceEnded = true
        pump()
    }

    /// Forwards what it may now; arms the pacing timer for the rest.
    func pump() {
        let (settings, now) = (settings.withLockedValue { $0 }, NIODeadline.now())
        guard !settings.paused else { return }
        let rate = settings.rate(direction)
        refill(rate: rate, now: now)
        var wrote = false
        while destination.isWritable, var first = held.first {
            if first.due > now {
                arm(first.due)
                break
            }
            var count = first.bytes.readableBytes
            if rate != nil {
                count = min(count, Int(tokens))
                guard count > 0 else {
                    let wanted = Double(min(first.bytes.readableBytes, Self.minimumBurst)) - tokens
                    arm(now + .nanoseconds(Int64(max(1_000_000, wanted / Double(rate!) * 1e9))))
                    break
                }
                tokens -= Double(count)
            }
            let slice = first.bytes.readSlice(length: count)!
            if first.bytes.readableBytes == 0 {
                held.removeFirst()
            } else {
                held[held.startIndex] = first
            }
            heldBytes -= count
            counted(count)
            destination.write(slice, promise: nil)
            wrote = true
        }
        if wrote { destination.flush() }
        if held.isEmpty && sourceEnded {
            destination.close(promise: nil)
            return
        }
        readIfRoom()
    }

    /// The bytes a throttled direction forwards at least at a time (unless fewer are held).
    private static let minimumBurst = 1024

    private func refill(rate: Int?, now: NIODeadline) {
        defer { refilled = now }
        guard let rate else { return }
        let elapsed = Double((now - refilled).nanoseconds) / 1e9
        // At most a twentieth of a second's worth accumulates: the pacing stays smooth.
        let burst = max(Double(rate) / 20, Double(Self.minimumBurst))
        tokens = min(burst, tokens + Double(rate) * max(0, elapsed))
    }

    private func arm(_ deadline: NIODeadline) {
        if let timer, timer <= deadline, timer > .now() { return }
        timer = deadline
        let bound = NIOLoopBound(self, eventLoop: destination.eventLoop)
        destination.eventLoop.scheduleTask(deadline: deadline) {
            let forwarder = bound.value
            if forwarder.timer == deadline { forwarder.timer = nil }
            forwarder.pump()
        }
    }
}

@available(*, unavailable)
extension FaultProxyForwarder: Sendable {}
