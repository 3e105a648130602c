#if FUZZING
/// libFuzzer's entry point (built with `-sanitize=fuzzer -DFUZZING`; see the README).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's driver, for a program whose `main` is its own.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's entry point: SwiftPM links an executable target's `main` to
/// `<target>_main`, so libFuzzer's own `main` is not used; this hands over to its driver.
@_cdecl("clever_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzzOneInput)
}
#else
import Foundation

/// `clever-fuzz FILE...`: runs saved inputs (a fuzzer's corpus or a crash it
/// found) through ``FuzzHarness`` without the fuzzer, to reproduce or debug.
@main
struct CleverFuzz {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print("usage: clever-fuzz FILE...  (runs each file through the decoders; see README, Fuzzing)")
            return
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                continue
            }
            data.withUnsafeBytes { FuzzHarness.run($0) }
            print("ok \(path) (\(data.count) bytes)")
        }
    }
}
#endif
