/// The question a pusher asks a peer of this library before it sends a file's
/// body: may a file of this size be written at this path?
///
/// The pusher sends a request ``requestedValue`` (`x-clever-file-check`) with
/// the keyword arguments `filepath` (the destination, as the push will carry
/// it) and `bytes`; the receiver answers from its ``FilePolicy``: `true`, or an
/// error reply with code ``RemoteError/Code/fileRefused``. A refused push then
/// fails without a byte of its body on the wire. Only sent to a peer that
/// showed `x-clever`: a reference peer gets the push as the reference sends it,
/// and refuses it, if it does, after the body.
///
/// The push itself is still checked when it arrives (the directory may change
/// in between); the check only spares the body of a push that would be refused.
package enum FileDestinationCheck {
    /// The request's requested value.
    package static let requestedValue = ExtensionHeader.fileCheck

    /// What the pusher does after the check.
    package enum Verdict: Sendable, Hashable {
        /// Send the file.
        case send
        /// Do not: the push fails with this error.
        case fail(MessagingError)
    }

    /// The request's keyword arguments.
    /// - Parameters:
    ///   - path: the destination, as the push carries it.
    ///   - bytes: the file's size.
    /// - Returns: `{"filepath": path, "bytes": bytes}`.
    package static func arguments(path: String, bytes: Int64) -> JSONObject {
        ["filepath": .string(path), "bytes": .integer(Int(bytes))]
    }

    /// The receiver's answer to a check, from its file policy.
    /// - Parameters:
    ///   - kwargs: the request's keyword arguments.
    ///   - policy: the receiver's policy (`nil`: every file is refused).
    /// - Returns: `nil` when a push there would be accepted, or the error reply that refuses it.
    package static func answer(_ kwargs: JSONObject, policy: FilePolicy?) -> RemoteError? {
        let refusal: FilePolicyError
        do throws(FilePolicyError) {
            guard let policy else { throw .notConfigured }
            _ = try policy.resolveForWriting(kwargs["filepath"]?.stringValue ?? "")
            return nil
        } catch {
            refusal = error
        }
        return RemoteError(code: RemoteError.Code.fileRefused, message: MessagingError.fileRefused(refusal).description)
    }

    /// What the pusher does with the check's outcome.
    ///
    /// A refusal fails the push with the peer's ``MessagingError/remote(_:)``
    /// error (code ``RemoteError/Code/fileRefused``), as a refusal after the body
    /// does. A peer of this library that does not know the check answers
    /// ``RemoteError/Code/unknownRequest``: the file is sent, and the peer
    /// decides once it arrives. A link lost, a timeout or a cancellation fails the push.
    /// - Parameter outcome: the reply's value, or the request's error.
    /// - Returns: the verdict.
    package static func verdict(_ outcome: Result<JSONValue, MessagingError>) -> Verdict {
        switch outcome {
        case .success:
            return .send
        case .failure(.remote(let remote)) where remote.code != RemoteError.Code.fileRefused:
            return .send
        case .failure(let error):
            return .fail(error)
        }
    }
}
