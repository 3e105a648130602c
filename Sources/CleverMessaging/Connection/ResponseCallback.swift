import Logging

/// The callback of a request made through the reference's `get_response`
/// form (``Connection/getResponse(_:requestArgs:requestKwargs:callbackArgs:callbackKwargs:timeout:onError:callback:)``),
/// with what it is called with.
///
/// Kept inside the request's ``PendingRequests/Entry/Request`` (told by
/// ``PendingRequests/Completion/requestCallback``), so that such a request
/// allocates one object for what it asks and who waits, instead of that
/// object and a closure capturing the callback's parts.
package struct ResponseCallback: Sendable {
    /// The connection the request went through, passed to ``callback``.
    package let connection: Connection
    /// Called with (connection, value, callbackArgs, callbackKwargs).
    package let callback: @Sendable (Connection, JSONValue, [JSONValue], JSONObject) -> Void
    /// Passed back to ``callback``.
    package let callbackArgs: [JSONValue]
    /// Passed back to ``callback``.
    package let callbackKwargs: JSONObject
    /// Called instead of ``callback`` when no reply comes; `nil`: the failure is logged.
    package let onError: (@Sendable (MessagingError) -> Void)?

    /// Delivers the outcome of the request for `requestedValue`.
    package func deliver(_ result: Result<JSONValue, MessagingError>, requestedValue: String) {
        switch result {
        case .success(let value): callback(connection, value, callbackArgs, callbackKwargs)
        case .failure(let error):
            if let onError {
                onError(error)
            } else {
                connection.logger.warning("request for \(requestedValue) failed: \(error)", metadata: connection.linkMetadata)
            }
        }
    }
}
