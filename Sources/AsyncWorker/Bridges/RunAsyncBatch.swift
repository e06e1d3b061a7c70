/// Runs `operation` for every input on the shared worker, at most `maxConcurrency` at a time, and blocks
/// the caller until all have finished; returns the outputs in input order.
///
/// ```swift
/// let pages = try runAsyncBatch(urls, maxConcurrency: 8, timeout: .seconds(30)) { url in
///     try await client.fetch(url)
/// }
/// ```
///
/// The batch is one task on the shared worker running a task group with a sliding window: it starts
/// `maxConcurrency` operations, and one more each time one finishes. The operations interleave on the
/// worker's one thread at their suspension points, so the limit bounds work in flight (requests, open
/// files), not CPU parallelism.
///
/// - The first operation to throw ends the batch: the others are cancelled, inputs not yet started never
///   start, and the error reaches the caller unchanged once the cancelled ones have unwound.
/// - Timeout: as for ``runAsyncTask(_:timeout:)-(_,Duration?)``: at the deadline the batch is cancelled
///   (every running operation with it) and the caller gets ``AsyncWorkerError/timedOut`` without waiting
///   for them to stop. Zero or less: `.timedOut` at once, nothing starts.
///
/// - Important: Blocks the calling thread; from async code, use a task group directly.
///
/// - Parameters:
///   - inputs: The inputs, consumed on the calling thread before anything starts.
///   - maxConcurrency: The most operations in flight at once; values below 1 mean 1.
///   - timeout: How long to wait for the whole batch; `nil` waits as long as it takes.
///   - fileID: Where the call is made, for stall reports; leave the default.
///   - line: The line of the call, likewise.
///   - operation: The async work for one input. Called concurrently for different inputs.
/// - Returns: One output per input, in input order.
/// - Throws: The first error an operation threw; ``AsyncWorkerError/timedOut``;
///   ``AsyncWorkerError/wouldDeadlock`` on the shared worker's own thread.
public func runAsyncBatch<Input: Sendable, Output: Sendable>(
    _ inputs: some Sequence<Input>,
    maxConcurrency: Int,
    timeout: Duration? = nil,
    fileID: StaticString = #fileID,
    line: UInt = #line,
    _ operation: @escaping @Sendable (Input) async throws -> Output
) throws -> [Output] {
    try sharedDispatcher.executeBatch(
        inputs,
        maxConcurrency: maxConcurrency,
        timeout: timeout,
        fileID: fileID,
        line: line,
        operation
    )
}

extension Dispatcher {
    /// Runs `operation` for every input on this dispatcher's worker, at most `maxConcurrency` at a time,
    /// and blocks until all have finished; returns the outputs in input order.
    ///
    /// The same as ``runAsyncBatch(_:maxConcurrency:timeout:_:)``, on this dispatcher's worker: one task
    /// with a sliding-window task group; the first error cancels the rest; `timeout` as for
    /// ``execute(_:timeout:)``.
    ///
    /// - Parameters:
    ///   - inputs: The inputs, consumed on the calling thread before anything starts.
    ///   - maxConcurrency: The most operations in flight at once; values below 1 mean 1.
    ///   - timeout: How long to wait for the whole batch; `nil` waits as long as it takes.
    ///   - fileID: Where the call is made, for stall reports; leave the default.
    ///   - line: The line of the call, likewise.
    ///   - operation: The async work for one input. Called concurrently for different inputs.
    /// - Returns: One output per input, in input order.
    /// - Throws: The first error an operation threw, or what ``execute(_:timeout:)`` throws
    ///   (``AsyncWorkerError/timedOut``, ``AsyncWorkerError/wouldDeadlock``, ``AsyncWorkerError/shutDown``).
    public func executeBatch<Input: Sendable, Output: Sendable>(
        _ inputs: some Sequence<Input>,
        maxConcurrency: Int,
        timeout: Duration? = nil,
        fileID: StaticString = #fileID,
        line: UInt = #line,
        _ operation: @escaping @Sendable (Input) async throws -> Output
    ) throws -> [Output] {
        let inputs = Array(inputs)
        let limit = max(1, maxConcurrency)
        return try execute(
            { try await slidingWindow(inputs, limit: limit, operation) },
            timeout: timeout,
            fileID: fileID,
            line: line
        )
    }
}

/// Runs `operation` over `inputs` with at most `limit` in flight; outputs in input order. The first error
/// leaves the group's scope, which cancels and awaits the remaining children.
func slidingWindow<Input: Sendable, Output: Sendable>(
    _ inputs: [Input],
    limit: Int,
    _ operation: @escaping @Sendable (Input) async throws -> Output
) async throws -> [Output] {
    try await withThrowingTaskGroup(of: (Int, Output).self) { group in
        var outputs = [Output?](repeating: nil, count: inputs.count)
        var nextIndex = 0
        func startNext() {
            guard nextIndex < inputs.count else { return }
            let index = nextIndex
            let input = inputs[index]
            nextIndex += 1
            group.addTask { (index, try await operation(input)) }
        }
        for _ in 0..<min(limit, inputs.count) { startNext() }
        while let (index, output) = try await group.next() {
            outputs[index] = output
            startNext()
        }
        return outputs.map { $0! }
    }
}
