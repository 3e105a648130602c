import NIOCore

/// Packs the body chunks of a file, as they come off the socket, into blocks
/// of ``blockSize`` bytes, and reuses the blocks once they are written.
///
/// A receiver that kept the socket's chunks themselves until the disk took
/// them would hold on to NIO's receive buffers, so that every read needed a
/// fresh buffer (an allocation and, for the allocator's fresh pages, page
/// faults), and the disk would get many small writes. Copying each chunk into
/// a block instead lets NIO read into the same buffer again, keeps a handful
/// of blocks in use for the whole file (the same memory, warm and mapped), and
/// hands the disk and the digest one block at a time.
///
/// Confined to one event loop (it is a value kept by a ``FileReceiver``).
struct FileBlockAssembler {
    /// Bytes per block (the last block of a body may be shorter).
    let blockSize: Int
    /// How many written blocks are kept for reuse.
    let maximumSpares: Int
    /// The block being filled.
    private var filling: ByteBuffer?
    /// Written blocks, cleared, waiting to be filled again.
    private var spares: [ByteBuffer] = []

    /// An assembler of `blockSize`-byte blocks that keeps up to `maximumSpares` for reuse.
    init(blockSize: Int, maximumSpares: Int) {
        precondition(blockSize > 0, "a block holds at least one byte")
        self.blockSize = blockSize
        self.maximumSpares = maximumSpares
    }

    /// Bytes copied into the block being filled.
    var pendingBytes: Int { filling?.readableBytes ?? 0 }

    /// Blocks kept for reuse.
    var spareCount: Int { spares.count }

    /// Copies `chunk` into blocks and appends every block it fills to `full`, in order.
    mutating func append(_ chunk: ByteBuffer, allocator: ByteBufferAllocator, full: inout [ByteBuffer]) {
        var chunk = chunk
        while chunk.readableBytes > 0 {
            var block = filling.take() ?? spares.popLast() ?? allocator.buffer(capacity: blockSize)
            let count = min(chunk.readableBytes, blockSize - block.readableBytes)
            var piece = chunk.readSlice(length: count)!
            block.writeBuffer(&piece)
            if block.readableBytes == blockSize {
                full.append(block)
            } else {
                filling = block
            }
        }
    }

    /// Takes the partly filled block (at the end of a body), if there is one.
    mutating func flush() -> ByteBuffer? {
        filling.take()
    }

    /// Gives back a block that is no longer needed, to be filled again.
    mutating func recycle(_ block: ByteBuffer) {
        guard spares.count < maximumSpares else { return }
        var block = block
        block.clear()
        spares.append(block)
    }

    /// Drops the block being filled and the spares.
    mutating func removeAll() {
        filling = nil
        spares = []
    }
}
