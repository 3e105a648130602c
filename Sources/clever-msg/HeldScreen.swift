import NIOConcurrencyHelpers

/// The lock around a ``ScreenHold``, shared by the line editor's reader
/// thread (keys, printed lines) and the command that holds the screen.
final class HeldScreen: Sendable {
    private let hold = NIOLockedValueBox(ScreenHold())

    /// Whether a command holds the screen.
    var isHeld: Bool { hold.withLockedValue { $0.isHeld } }

    /// A command takes the screen (see ``ScreenHold/take()``).
    func take() { hold.withLockedValue { $0.take() } }

    /// The command gives it back (see ``ScreenHold/release()``).
    /// - Returns: the lines held back meanwhile.
    func release() -> [String] { hold.withLockedValue { $0.release() } }

    /// A key was read (see ``ScreenHold/keyPressed()``).
    /// - Returns: whether the holder took it.
    func keyPressed() -> Bool { hold.withLockedValue { $0.keyPressed() } }

    /// A line to print (see ``ScreenHold/hold(_:)``).
    /// - Returns: whether it was held back.
    func hold(_ line: String) -> Bool { hold.withLockedValue { $0.hold(line) } }

    /// Waits for a key while the screen is held; returns at once when one came
    /// already, when the screen is not held, or when the task is cancelled.
    func nextKey() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if hold.withLockedValue({ $0.wait(continuation) }) { continuation.resume() }
            }
        } onCancel: {
            hold.withLockedValue { $0.cancel() }
        }
    }
}
