import CleverMessaging
import NIOCore

/// One error as the tool prints it, in one format everywhere.
///
/// Text: `error: MESSAGE`, or `ID: error: MESSAGE` for one drone's result.
/// JSON: `{"error": {"code": CODE, "message": MESSAGE}}`, with `"id": ID`
/// first for one drone's result. `CODE` is the ``MessagingError/Code`` of a
/// library error, the ``ConsoleError/code`` of a console error, the
/// ``DroneSkipReason`` of a drone a command could not reach for want of a link
/// (`disconnected`, `unknown`: see ``ReachReport``), and `failed` for any other
/// error (a system error in strerror's words).
struct ErrorReport: Sendable, Hashable {
    /// The drone the error is about, or `nil` when it is about no drone.
    var drone: String?
    /// A stable snake_case kind.
    var code: String
    /// The message for people.
    var message: String

    /// An error of the tool's own.
    /// - Parameters:
    ///   - code: a stable snake_case kind.
    ///   - message: the message.
    ///   - drone: the drone it is about, if any.
    init(code: String, message: String, drone: String? = nil) {
        self.drone = drone
        self.code = code
        self.message = message
    }

    /// Describes `error`.
    /// - Parameters:
    ///   - error: the error.
    ///   - drone: the drone it is about, if any.
    init(_ error: any Error, drone: String? = nil) {
        self.drone = drone
        switch error {
        case let error as MessagingError:
            code = error.code.rawValue
            message = error.message
        case let error as ConsoleError:
            code = error.code
            message = error.description
        case let error as FilePolicyError:
            code = MessagingError.Code.fileRefused.rawValue
            message = error.description
        case is CancellationError:
            code = MessagingError.Code.cancelled.rawValue
            message = "cancelled"
        default:
            code = "failed"
            // A system error reads as strerror's text, not as an errno number.
            message = (error as? IOError).map { LogFormat.systemError($0.errnoCode) } ?? LogFormat.error(error)
        }
        // A drone started without --root refuses every file: say so in the drone's terms.
        if message.contains(FilePolicyError.notConfigured.description) {
            message += " (the drone was started without --root)"
        }
    }

    /// The text line.
    var text: String {
        if let drone { return "\(drone): error: \(message)" }
        return "error: \(message)"
    }

    /// The JSON object.
    var json: JSONObject {
        var object: JSONObject = [:]
        if let drone { object["id"] = .string(drone) }
        object["error"] = ["code": .string(code), "message": .string(message)]
        return object
    }
}

extension LinePrinter {
    /// Prints `error` in the one error format (see ``ErrorReport``).
    /// - Parameters:
    ///   - error: the error.
    ///   - drone: the drone it is about, if any.
    func error(_ error: any Error, drone: String? = nil) {
        let report = ErrorReport(error, drone: drone)
        print(report.json, text: report.text)
    }
}
