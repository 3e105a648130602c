import NIOCore

/// The members of a JSON frame's content that a connection reads (PROTOCOL.md
/// section 3), parsed straight from the bytes without building the outer object.
///
/// An action's content is `{"args": [...], "kwargs": {...}}`, a request's adds
/// `requested_value` and `request_id`, a response's is `{"value": ...}` (with
/// `error` from this library's error extension). Only the outer object is
/// skipped: every member's value is still parsed (and so validated) in full,
/// and members of other names are parsed and dropped. A repeated key counts by
/// its last value, as in Python; content that is not an object has no members.
struct ContentMembers {
    /// `args` when it is an array; empty when missing, `null` or of another type
    /// (a reference peer resends requests with `"args": null`).
    var args: [JSONValue] = []
    /// `kwargs` when it is an object; empty otherwise.
    var kwargs: JSONObject = [:]
    /// `requested_value`, as received.
    var requestedValue: JSONValue?
    /// `request_id`, as received (echoed back exactly).
    var requestID: JSONValue?
    /// `value`, as received.
    var value: JSONValue?
    /// `error`, as received.
    var error: JSONValue?
    /// What only handlers that decode their own arguments read, out of line so
    /// that the members of every other frame stay small to move (see ``FrameDecoder/handlers``).
    private(set) var typedPart: TypedContent?

    /// What only handlers that decode their own arguments read, made when first set.
    var typed: TypedContent {
        mutating get {
            if let typedPart { return typedPart }
            let part = TypedContent()
            typedPart = part
            return part
        }
    }
    /// The text of the `kwargs` object, checked, for a handler that decodes
    /// its arguments itself (then ``kwargs`` is empty).
    var kwargsText: ByteBuffer? { typedPart?.kwargsText }
    /// The text of `value`, checked, for a request that asked for a typed
    /// reply (then ``value`` is only a placeholder).
    var valueText: ByteBuffer? { typedPart?.valueText }

    /// No members.
    init() {}

    /// The members of an already parsed content value (`nil`: binary or no content).
    init(_ content: JSONValue?) {
        guard case .object(let object)? = content else { return }
        for (key, value) in object {
            if let member = Member(rawValue: key) { set(member, value) }
        }
    }

    /// The member names that are kept.
    enum Member: String {
        case args
        case kwargs
        case requestedValue = "requested_value"
        case requestID = "request_id"
        case value
        case error

        /// The member whose UTF-8 name is `bytes`, without allocating.
        @inline(__always)
        static func match(_ bytes: UnsafeRawBufferPointer) -> Member? {
            switch bytes.count {
            case 4: return bytes.equals("args") ? .args : nil
            case 5: return bytes.equals("value") ? .value : bytes.equals("error") ? .error : nil
            case 6: return bytes.equals("kwargs") ? .kwargs : nil
            case 10: return bytes.equals("request_id") ? .requestID : nil
            case 15: return bytes.equals("requested_value") ? .requestedValue : nil
            default: return nil
            }
        }
    }

    /// Stores the (last) value of `member`.
    @inline(__always)
    mutating func set(_ member: Member, _ newValue: consuming JSONValue) {
        switch member {
        case .args:
            if case .array(let array) = newValue { args = array } else { args = [] }
        case .kwargs:
            if case .object(let object) = newValue { kwargs = object } else { kwargs = [:] }
        case .requestedValue: requestedValue = newValue
        case .requestID: requestID = newValue
        case .value: value = newValue
        case .error: error = newValue
        }
    }
}

/// The part of a frame's members that only handlers decoding their own
/// arguments read (``ContentMembers/typed``).
final class TypedContent {
    /// The text of the `kwargs` object, when it was kept as text.
    var kwargsText: ByteBuffer?
    /// The text of a response's `value`, when it was kept as text (see ``TypedReplies``).
    var valueText: ByteBuffer?
    /// The action's handler, when it was looked up (`.some(nil)`: there is none).
    var resolvedAction: HandlerRegistry.Action??
    /// The request's name and handler, when they were looked up.
    var resolvedRequest: (name: String, handler: HandlerRegistry.Request?)?
}
