/// What one message's task runs: the stages, then the settlement (the monitor counts the run, the
/// subscribers are told) before the task returns, so both are done when the message's future resolves.
///
/// A value rather than a closure: a ``ThreadWorker`` calls ``call()`` straight from the task's body
/// (``ThreadWorker/submit(operation:_:)``), where a closure is one more async frame, a context allocated
/// per message, and two more executor switches (the closure's entry, and the hop back after it).
@usableFromInline
struct PipelineMessage<Input: Sendable, Output: Sendable>: WorkerOperation {
    @usableFromInline let stages: PipelineStages<Input, Output>
    @usableFromInline let storage: PipelineStorage<Input, Output>
    @usableFromInline let id: UInt64
    @usableFromInline let input: Input

    @inlinable
    init(stages: PipelineStages<Input, Output>, storage: PipelineStorage<Input, Output>, id: UInt64, input: Input) {
        self.stages = stages
        self.storage = storage
        self.id = id
        self.input = input
    }

    /// Runs the stages and settles the message. If shutdown abandoned the message first, it was
    /// reported as `.shutDown`, so this throws `.shutDown` too: the future agrees with the subscribers.
    @inlinable @inline(__always)
    nonisolated(nonsending) func call() async throws -> Output {
        let result: Result<Output, any Error>
        var failedStage: Int?
        do {
            result = .success(try await stages.run(input, storage.monitor))
        } catch let failure as StageFailure {
            failedStage = failure.stage
            result = .failure(failure.error)
        } catch {
            result = .failure(error)
        }
        guard storage.settle(id, result, failedStage: failedStage) else { throw AsyncWorkerError.shutDown }
        return try result.get()
    }
}
