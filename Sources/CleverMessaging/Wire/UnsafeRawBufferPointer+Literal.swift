#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension UnsafeRawBufferPointer {
    /// Whether these bytes are `literal`'s UTF-8 bytes, compared without
    /// allocating (the key tables of the header and content parsers).
    @inline(__always)
    func equals(_ literal: StaticString) -> Bool {
        literal.utf8CodeUnitCount == count && (count == 0 || memcmp(literal.utf8Start, baseAddress!, count) == 0)
    }
}
