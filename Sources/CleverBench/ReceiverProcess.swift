import ArgumentParser
import CleverMessaging
import Foundation

/// The receiver process of `bench files`.
struct ReceiverProcess {
    let process: Process
    let input: FileHandle
    let output: FileHandle
    let port: Int
    let rawPort: Int

    init(root: String, rawBytes: Int64) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["bench", "files-receiver", "--root", root, "--raw-bytes", "\(rawBytes)"]
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        try process.run()
        input = stdinPipe.fileHandleForWriting
        output = stdoutPipe.fileHandleForReading
        let ports = try Self.readJSONLine(output)
        guard let port = ports["port"]?.integerValue, let rawPort = ports["raw_port"]?.integerValue else {
            throw ValidationError("receiver did not report its ports: \(ports)")
        }
        self.port = port
        self.rawPort = rawPort
    }

    /// Stops the receiver; returns its peak RSS in bytes.
    func finish() throws -> Int {
        input.write(Data("quit\n".utf8))
        let report = try Self.readJSONLine(output)
        process.waitUntilExit()
        return report["peak_rss"]?.integerValue ?? 0
    }

    static func readJSONLine(_ handle: FileHandle) throws -> JSONValue {
        var line: [UInt8] = []
        while true {
            let byte = try handle.read(upToCount: 1) ?? Data()
            guard let b = byte.first else { break }
            if b == UInt8(ascii: "\n") { break }
            line.append(b)
        }
        return try JSONParser.parse(line)
    }
}
