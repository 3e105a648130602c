/// A stack of values the parser builds arrays and objects on.
///
/// Members of a container are pushed as they are parsed and moved out in one
/// piece into an array of exactly the right capacity once the container is
/// closed, so no array grows while parsing. The stack starts in memory the
/// caller lends (usually a temporary allocation on the call stack) and moves
/// to the heap only when that is full; it deinitializes whatever is left on it
/// (after an error) when it is destroyed.
struct JSONScratchStack<Element>: ~Copyable {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    /// The number of values on the stack.
    private(set) var count: Int = 0
    /// Whether `storage` was allocated here (and must be deallocated here).
    private var ownsStorage: Bool

    /// Creates an empty stack in `initial`, which must outlive the stack and
    /// hold at least one element.
    init(in initial: UnsafeMutableBufferPointer<Element>) {
        precondition(initial.count > 0, "a scratch stack needs initial room")
        storage = initial.baseAddress!
        capacity = initial.count
        ownsStorage = false
    }

    deinit {
        storage.deinitialize(count: count)
        if ownsStorage { storage.deallocate() }
    }

    /// Pushes `element`.
    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (storage + count).initialize(to: element)
        count += 1
    }

    @inline(never)
    private mutating func grow() {
        let newCapacity = capacity * 2
        let newStorage = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newStorage.moveInitialize(from: storage, count: count)
        if ownsStorage { storage.deallocate() }
        storage = newStorage
        capacity = newCapacity
        ownsStorage = true
    }

    /// The element at `position` (below `count`).
    @inline(__always)
    subscript(position: Int) -> Element {
        storage[position]
    }

    /// Moves the elements from `start` to the top into a new array of exactly their count.
    mutating func popArray(from start: Int) -> [Element] {
        let n = count - start
        guard n > 0 else { return [] }
        let source = storage + start
        let result = [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: source, count: n)
            initialized = n
        }
        count = start
        return result
    }

    /// Moves the elements from `start` to the top into a new contiguous array of exactly their count.
    mutating func popContiguousArray(from start: Int) -> ContiguousArray<Element> {
        let n = count - start
        guard n > 0 else { return [] }
        let source = storage + start
        let result = ContiguousArray<Element>(unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: source, count: n)
            initialized = n
        }
        count = start
        return result
    }
}
