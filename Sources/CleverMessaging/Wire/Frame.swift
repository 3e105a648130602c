import OrderedCollections
import NIOCore
import OrderedCollections

/// One protocol frame: a header and its content (PROTOCOL.md sections 1 and 3).
///
/// The static constructors build the four kinds of frame the reference sends,
/// with the header keys it writes; ``FrameEncoder`` sets `content-length`
/// from the content when it writes the frame.
public struct Frame: Sendable, Hashable {
    /// The header.
    public var header: FrameHeader
    /// The content.
    public var content: FrameContent

    /// Creates a frame.
    /// - Parameters:
    ///   - header: the header; its content type should match `content`.
    ///   - content: the content.
    public init(header: FrameHeader, content: FrameContent) {
        self.header = header
        self.content = content
    }

    /// An action message (3.1): `{"args": [...], "kwargs": {...}}` under `action`.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - extra: extension header keys.
    /// - Returns: the frame.
    public static func action(
        _ action: String,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:],
        extra: JSONObject = [:]
    ) -> Frame {
        Frame(
            header: FrameHeader(contentType: .json, messageType: .message, action: action, extra: extra),
            content: .json(.object(["args": .array(args), "kwargs": .object(kwargs)]))
        )
    }

    /// A file push (3.2): the bytes under `action: "filetransfer"` and `filepath`.
    /// - Parameters:
    ///   - path: the destination path on the receiver.
    ///   - bytes: the file's content.
    ///   - extra: extension header keys (this library adds `sha256`).
    /// - Returns: the frame.
    public static func filePush(path: String, bytes: ByteBuffer, extra: JSONObject = [:]) -> Frame {
        Frame(
            header: FrameHeader(
                contentType: .binary,
                contentLength: bytes.readableBytes,
                messageType: .message,
                action: Frame.fileTransferAction,
                filePath: path,
                extra: extra
            ),
            content: .binary(bytes)
        )
    }

    /// A request (3.3): `requested_value`, `request_id`, `args` and `kwargs` in the content.
    /// - Parameters:
    ///   - requestedValue: the name of the value asked for.
    ///   - id: the request id (this library sends zero-padded decimal strings).
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - extra: extension header keys.
    /// - Returns: the frame.
    public static func request(
        _ requestedValue: String,
        id: JSONValue,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:],
        extra: JSONObject = [:]
    ) -> Frame {
        Frame(
            header: FrameHeader(contentType: .json, messageType: .request, extra: extra),
            content: .json(
                .object([
                    "requested_value": .string(requestedValue),
                    "request_id": id,
                    "args": .array(args),
                    "kwargs": .object(kwargs),
                ])
            )
        )
    }

    /// A value response (3.4): `{"value": value}` with `requested_value` and `request_id` in the header.
    /// - Parameters:
    ///   - requestedValue: copied from the request.
    ///   - id: copied from the request, exactly as received.
    ///   - value: the answer.
    ///   - extra: extension header keys (the error extension adds `error`).
    /// - Returns: the frame.
    public static func response(
        _ requestedValue: String,
        id: JSONValue,
        value: JSONValue,
        extra: JSONObject = [:]
    ) -> Frame {
        Frame(
            header: FrameHeader(
                contentType: .json,
                messageType: .response,
                requestedValue: requestedValue,
                requestID: id,
                extra: extra
            ),
            content: .json(.object(["value": value]))
        )
    }

    /// A file response (3.4): the file's bytes answering a `filetransfer` request.
    /// - Parameters:
    ///   - id: copied from the request, exactly as received.
    ///   - bytes: the file's content.
    ///   - extra: extension header keys.
    /// - Returns: the frame.
    public static func fileResponse(id: JSONValue, bytes: ByteBuffer, extra: JSONObject = [:]) -> Frame {
        Frame(
            header: FrameHeader(
                contentType: .binary,
                contentLength: bytes.readableBytes,
                messageType: .response,
                requestedValue: Frame.fileTransferAction,
                requestID: id,
                extra: extra
            ),
            content: .binary(bytes)
        )
    }

    /// The action and requested value the reference uses for files: `"filetransfer"`.
    public static let fileTransferAction = "filetransfer"
}
