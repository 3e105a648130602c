import NIOCore
import Testing

@testable import CleverMessaging

/// The receiver's packing of socket chunks into reused blocks.
@Suite("Files: block assembler")
struct FileBlockAssemblerTests {
    static let allocator = ByteBufferAllocator()

    /// Bytes `0..<count` of a pattern that differs at every offset within 251 bytes.
    static func pattern(from start: Int, count: Int) -> [UInt8] {
        (start..<(start + count)).map { UInt8(truncatingIfNeeded: $0 % 251) }
    }

    /// Feeds `sizes` chunks of the pattern; returns the blocks in order (the last one flushed).
    static func assemble(_ sizes: [Int], blockSize: Int, assembler: inout FileBlockAssembler) -> [ByteBuffer] {
        var blocks: [ByteBuffer] = []
        var offset = 0
        for size in sizes {
            assembler.append(ByteBuffer(bytes: pattern(from: offset, count: size)), allocator: allocator, full: &blocks)
            offset += size
        }
        if let last = assembler.flush() { blocks.append(last) }
        return blocks
    }

    @Test("chunks of any size across block boundaries come out as full blocks, in order, then the rest")
    func packsInOrder() {
        let sizes = [1, 7, 16, 3, 40, 64, 5, 100, 2, 9]
        var assembler = FileBlockAssembler(blockSize: 16, maximumSpares: 2)
        let blocks = Self.assemble(sizes, blockSize: 16, assembler: &assembler)
        let total = sizes.reduce(0, +)
        #expect(blocks.dropLast().allSatisfy { $0.readableBytes == 16 })
        #expect(blocks.last?.readableBytes == (total % 16 == 0 ? 16 : total % 16))
        #expect(blocks.flatMap { Array($0.readableBytesView) } == Self.pattern(from: 0, count: total))
        #expect(assembler.pendingBytes == 0)
    }

    @Test("a body of whole blocks leaves nothing to flush")
    func wholeBlocks() {
        var assembler = FileBlockAssembler(blockSize: 8, maximumSpares: 1)
        var full: [ByteBuffer] = []
        assembler.append(ByteBuffer(bytes: Self.pattern(from: 0, count: 24)), allocator: Self.allocator, full: &full)
        #expect(full.count == 3)
        #expect(assembler.pendingBytes == 0)
        #expect(assembler.flush() == nil)
    }

    @Test("recycled blocks are reused empty, at most maximumSpares are kept")
    func recycles() {
        var assembler = FileBlockAssembler(blockSize: 4, maximumSpares: 2)
        var full: [ByteBuffer] = []
        assembler.append(ByteBuffer(bytes: Self.pattern(from: 0, count: 12)), allocator: Self.allocator, full: &full)
        #expect(full.count == 3)
        for block in full { assembler.recycle(block) }
        #expect(assembler.spareCount == 2)
        full = []
        assembler.append(ByteBuffer(bytes: Self.pattern(from: 100, count: 6)), allocator: Self.allocator, full: &full)
        #expect(full.count == 1)
        #expect(Array(full[0].readableBytesView) == Self.pattern(from: 100, count: 4))
        #expect(assembler.spareCount == 0)
        #expect(assembler.pendingBytes == 2)
        assembler.removeAll()
        #expect(assembler.pendingBytes == 0)
        #expect(assembler.flush() == nil)
    }
}
