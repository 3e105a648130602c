/// Runs `body` for each of `items` with at most `limit` running at once, as
/// child tasks of one task group (no task per item beyond those running).
/// - Parameters:
///   - items: the inputs.
///   - limit: the most bodies running at once.
///   - body: the work for one item.
/// - Returns: the results, in the order of `items`.
func boundedMap<Item: Sendable, Result: Sendable>(
    _ items: [Item],
    limit: Int,
    _ body: @escaping @Sendable (Item) async -> Result
) async -> [Result] {
    guard !items.isEmpty else { return [] }
    return await withTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: items.count)
        var next = 0
        while next < min(max(1, limit), items.count) {
            let index = next
            group.addTask { (index, await body(items[index])) }
            next += 1
        }
        while let (index, result) = await group.next() {
            results[index] = result
            if next < items.count {
                let index = next
                group.addTask { (index, await body(items[index])) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}
