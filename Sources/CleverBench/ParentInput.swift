import Foundation

/// The standard input of a bench's child process (`bench files-receiver`,
/// `bench raw-peers`): the parent writes a line "quit" once it has measured.
enum ParentInput {
    /// Returns once a line "quit" arrives or standard input ends (the parent is gone).
    /// The blocking reads run on a thread of their own, never on one of the
    /// concurrency pool's few threads.
    static func quit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                while let line = readLine(strippingNewline: true), line != "quit" {}
                continuation.resume()
            }
            thread.start()
        }
    }
}
