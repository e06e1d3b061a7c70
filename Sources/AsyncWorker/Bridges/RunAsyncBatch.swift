import Foundation

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
///   start, and the error reaches the caller unchanged once the cancelled ones have unwound. To run
///   everything and get one `Result` per input, use
///   ``runAsyncBatch(outcomesOf:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)``.
/// - Timeout: as for ``runAsyncTask(_:timeout:fileID:line:)-(_,Duration?,_,_)``: at the deadline the batch is cancelled
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
@inlinable
public func runAsyncBatch<Input: Sendable, Output: Sendable>(
    _ inputs: some Sequence<Input>,
    maxConcurrency: Int,
    timeout: Duration? = nil,
    fileID: StaticString = #fileID,
    line: UInt = #line,
    _ operation: @escaping @Sendable (Input) async throws -> Output
) throws -> [Output] {
    let inputs = Array(inputs)
    let limit = max(1, maxConcurrency)
    return try sharedDispatcher.execute(
        { try await slidingWindow(inputs, limit: limit, operation) },
        timeout: timeout,
        Submission(fileID: fileID, line: line, api: "runAsyncBatch(_:maxConcurrency:timeout:_:)")
    )
}

/// ``runAsyncBatch(_:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)`` with the timeout in
/// seconds, for code that keeps `TimeInterval`s (NaN or negative: `.timedOut` at once; infinite: none).
@inlinable
public func runAsyncBatch<Input: Sendable, Output: Sendable>(
    _ inputs: some Sequence<Input>,
    maxConcurrency: Int,
    timeout seconds: TimeInterval,
    fileID: StaticString = #fileID,
    line: UInt = #line,
    _ operation: @escaping @Sendable (Input) async throws -> Output
) throws -> [Output] {
    try runAsyncBatch(
        inputs,
        maxConcurrency: maxConcurrency,
        timeout: Deadline.duration(fromSeconds: seconds),
        fileID: fileID,
        line: line,
        operation
    )
}

/// Runs `operation` for every input on the shared worker, at most `maxConcurrency` at a time, and blocks
/// until *all* have finished, whatever they threw; returns one `Result` per input, in input order.
///
/// ```swift
/// let outcomes = try runAsyncBatch(outcomesOf: urls, maxConcurrency: 8, timeout: .seconds(30)) { url in
///     try await client.fetch(url)
/// }
/// for (url, outcome) in zip(urls, outcomes) {
///     if case .failure(let error) = outcome { print("\(url): \(error)") }
/// }
/// ```
///
/// The collect-everything form (Python's `gather(return_exceptions=True)`): an operation that throws
/// fails its own input only, and the others go on. The call itself throws only what a blocking call
/// throws: at the deadline ``AsyncWorkerError/timedOut`` (the batch is cancelled, as in
/// ``runAsyncBatch(_:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)``; no partial results),
/// ``AsyncWorkerError/wouldDeadlock`` on the shared worker's own thread.
///
/// - Parameters:
///   - inputs: The inputs, consumed on the calling thread before anything starts.
///   - maxConcurrency: The most operations in flight at once; values below 1 mean 1.
///   - timeout: How long to wait for the whole batch; `nil` waits as long as it takes.
///   - fileID: Where the call is made, for stall reports; leave the default.
///   - line: The line of the call, likewise.
///   - operation: The async work for one input. Called concurrently for different inputs.
/// - Returns: One outcome per input, in input order: the output, or the error the operation threw for it.
/// - Throws: ``AsyncWorkerError/timedOut``, ``AsyncWorkerError/wouldDeadlock``.
@inlinable
public func runAsyncBatch<Input: Sendable, Output: Sendable>(
    outcomesOf inputs: some Sequence<Input>,
    maxConcurrency: Int,
    timeout: Duration? = nil,
    fileID: StaticString = #fileID,
    line: UInt = #line,
    _ operation: @escaping @Sendable (Input) async throws -> Output
) throws -> [Result<Output, any Error>] {
    let inputs = Array(inputs)
    let limit = max(1, maxConcurrency)
    return try sharedDispatcher.execute(
        { await settlingWindow(inputs, limit: limit, operation) },
        timeout: timeout,
        Submission(fileID: fileID, line: line, api: "runAsyncBatch(outcomesOf:maxConcurrency:timeout:_:)")
    )
}

/// ``runAsyncBatch(outcomesOf:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)`` with the
/// timeout in seconds.
@inlinable
public func runAsyncBatch<Input: Sendable, Output: Sendable>(
    outcomesOf inputs: some Sequence<Input>,
    maxConcurrency: Int,
    timeout seconds: TimeInterval,
    fileID: StaticString = #fileID,
    line: UInt = #line,
    _ operation: @escaping @Sendable (Input) async throws -> Output
) throws -> [Result<Output, any Error>] {
    try runAsyncBatch(
        outcomesOf: inputs,
        maxConcurrency: maxConcurrency,
        timeout: Deadline.duration(fromSeconds: seconds),
        fileID: fileID,
        line: line,
        operation
    )
}

extension Dispatcher {
    /// Runs `operation` for every input on this dispatcher's worker, at most `maxConcurrency` at a time,
    /// and blocks until all have finished; returns the outputs in input order.
    ///
    /// The same as ``runAsyncBatch(_:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)``, on this
    /// dispatcher's worker: one task with a sliding-window task group; the first error cancels the rest;
    /// `timeout` as for ``execute(_:timeout:fileID:line:)-(_,Duration?,_,_)``.
    ///
    /// - Parameters:
    ///   - inputs: The inputs, consumed on the calling thread before anything starts.
    ///   - maxConcurrency: The most operations in flight at once; values below 1 mean 1.
    ///   - timeout: How long to wait for the whole batch; `nil` waits as long as it takes.
    ///   - fileID: Where the call is made, for stall reports; leave the default.
    ///   - line: The line of the call, likewise.
    ///   - operation: The async work for one input. Called concurrently for different inputs.
    /// - Returns: One output per input, in input order.
    /// - Throws: The first error an operation threw, or what a blocking `execute` throws
    ///   (``AsyncWorkerError/timedOut``, ``AsyncWorkerError/wouldDeadlock``, ``AsyncWorkerError/shutDown``).
    @inlinable
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
            Submission(fileID: fileID, line: line, api: "executeBatch(_:maxConcurrency:timeout:_:)")
        )
    }

    /// Runs `operation` for every input on this dispatcher's worker and blocks until all have finished,
    /// whatever they threw; one `Result` per input, in input order. See
    /// ``runAsyncBatch(outcomesOf:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)``.
    ///
    /// - Throws: What a blocking `execute` throws (``AsyncWorkerError/timedOut``,
    ///   ``AsyncWorkerError/wouldDeadlock``, ``AsyncWorkerError/shutDown``); never an operation's error.
    @inlinable
    public func executeBatch<Input: Sendable, Output: Sendable>(
        outcomesOf inputs: some Sequence<Input>,
        maxConcurrency: Int,
        timeout: Duration? = nil,
        fileID: StaticString = #fileID,
        line: UInt = #line,
        _ operation: @escaping @Sendable (Input) async throws -> Output
    ) throws -> [Result<Output, any Error>] {
        let inputs = Array(inputs)
        let limit = max(1, maxConcurrency)
        return try execute(
            { await settlingWindow(inputs, limit: limit, operation) },
            timeout: timeout,
            Submission(fileID: fileID, line: line, api: "executeBatch(outcomesOf:maxConcurrency:timeout:_:)")
        )
    }
}

extension Dispatcher {
    /// ``executeBatch(_:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)`` with the timeout in
    /// seconds, for code that keeps `TimeInterval`s.
    @inlinable
    public func executeBatch<Input: Sendable, Output: Sendable>(
        _ inputs: some Sequence<Input>,
        maxConcurrency: Int,
        timeout seconds: TimeInterval,
        fileID: StaticString = #fileID,
        line: UInt = #line,
        _ operation: @escaping @Sendable (Input) async throws -> Output
    ) throws -> [Output] {
        try executeBatch(
            inputs,
            maxConcurrency: maxConcurrency,
            timeout: Deadline.duration(fromSeconds: seconds),
            fileID: fileID,
            line: line,
            operation
        )
    }

    /// ``executeBatch(outcomesOf:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)`` with the
    /// timeout in seconds, for code that keeps `TimeInterval`s.
    @inlinable
    public func executeBatch<Input: Sendable, Output: Sendable>(
        outcomesOf inputs: some Sequence<Input>,
        maxConcurrency: Int,
        timeout seconds: TimeInterval,
        fileID: StaticString = #fileID,
        line: UInt = #line,
        _ operation: @escaping @Sendable (Input) async throws -> Output
    ) throws -> [Result<Output, any Error>] {
        try executeBatch(
            outcomesOf: inputs,
            maxConcurrency: maxConcurrency,
            timeout: Deadline.duration(fromSeconds: seconds),
            fileID: fileID,
            line: line,
            operation
        )
    }
}

/// Runs `operation` over `inputs` with at most `limit` in flight and collects every outcome, in input
/// order; an error fails its own input only.
@inlinable
func settlingWindow<Input: Sendable, Output: Sendable>(
    _ inputs: [Input],
    limit: Int,
    _ operation: @escaping @Sendable (Input) async throws -> Output
) async -> [Result<Output, any Error>] {
    // The same window as `slidingWindow`, over an operation that turns its error into its outcome, so
    // nothing ends the group early.
    do {
        return try await slidingWindow(inputs, limit: limit) { input -> Result<Output, any Error> in
            do {
                return .success(try await operation(input))
            } catch {
                return .failure(error)
            }
        }
    } catch {
        preconditionFailure("an operation that cannot throw ended the window: \(error)")
    }
}

/// Runs `operation` over `inputs` with at most `limit` in flight; outputs in input order. The first error
/// leaves the group's scope, which cancels and awaits the remaining children.
@inlinable
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
