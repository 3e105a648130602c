import NIOCore

/// The NATS protocol decoder of a channel: ``NATSParser`` behind NIO's single-step decoder.
struct NATSDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = NATSServerOperation

    private var parser: NATSParser

    init(limits: NATSParserLimits = NATSParserLimits()) {
        parser = NATSParser(limits: limits)
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> NATSServerOperation? {
        try parser.next(&buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> NATSServerOperation? {
        if let operation = try parser.next(&buffer) { return operation }
        if buffer.readableBytes > 0 || parser.isWaitingForPayload {
            throw NATSError.protocolViolation(reason: "connection closed inside an operation")
        }
        return nil
    }
}
