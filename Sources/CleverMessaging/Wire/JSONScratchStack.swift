/// A stack of values the parser builds arrays and objects on.
///
/// Members of a container are pushed as they are parsed and moved out in one
/// piece into an array of exactly the right capacity once the container is
/// closed, so no array grows while parsing. The stack starts either empty,
/// allocating on the first push, or in memory the caller lends (a temporary
/// allocation on the call stack), moving to the heap only when that is full.
/// It deinitializes whatever is left on it (after an error) when destroyed.
struct JSONScratchStack<Element>: ~Copyable {
    /// The elements; `nil` only while `capacity` is zero.
    private var storage: UnsafeMutablePointer<Element>?
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

    /// Creates an empty stack that allocates when first pushed to.
    init() {
        storage = nil
        capacity = 0
        ownsStorage = false
    }

    deinit {
        guard let storage else { return }
        storage.deinitialize(count: count)
        if ownsStorage { storage.deallocate() }
    }

    /// Pushes `element`.
    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (storage.unsafelyUnwrapped + count).initialize(to: element)
        count += 1
    }

    @inline(never)
    private mutating func grow() {
        let newCapacity = Swift.max(16, capacity * 2)
        let newStorage = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let storage {
            newStorage.moveInitialize(from: storage, count: count)
            if ownsStorage { storage.deallocate() }
        }
        storage = newStorage
        capacity = newCapacity
        ownsStorage = true
    }

    /// The element at `position` (below `count`).
    @inline(__always)
    subscript(position: Int) -> Element {
        storage.unsafelyUnwrapped[position]
    }

    /// Moves the elements from `start` to the top into a new array of exactly their count.
    mutating func popArray(from start: Int) -> [Element] {
        Array(popContiguousArray(from: start))
    }

    /// Moves the elements from `start` to the top into a new contiguous array of exactly their count.
    mutating func popContiguousArray(from start: Int) -> ContiguousArray<Element> {
        var result = ContiguousArray<Element>()
        let n = count - start
        guard n > 0 else { return result }
        // (`init(unsafeUninitializedCapacity:)` would look the array's
        // generic metadata up on every call; this path is specialized.)
        result.reserveCapacity(n)
        let source = storage.unsafelyUnwrapped + start
        for i in 0..<n { result.append((source + i).move()) }
        count = start
        return result
    }
}
