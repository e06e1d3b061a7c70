/// A chain of domains whose concrete types are all known: what ``PipelineBuilder`` accumulates while it
/// reads a `Pipeline { … }` block, before ``PipelineBuilder/buildFinalResult(_:)`` wraps the whole chain
/// in one ``PipelineStages`` closure. You don't conform to it or name it.
///
/// Why it exists: ``Pipeline/then(_:)`` appends a domain to stages whose types are already erased into a
/// closure, so a message runs one closure per domain, with an executor check (`swift_task_switch`) after
/// each nested call and an async frame per closure. A chain keeps every domain's type until the end, so
/// the compiler specialises the whole chain, in the client's module, into one function: the same work as
/// calling the domains one after another by hand (measured: a message through four trivial domains,
/// 17.3 k → 14.2 k instructions, 8 → 5 executor switches, 16 → 7 async frames).
public protocol DomainChain<Input, Output>: Sendable {
    /// What the first domain consumes.
    associatedtype Input: Sendable
    /// What the last domain produces.
    associatedtype Output: Sendable

    /// The domains' names, in order.
    var names: [String] { get }

    /// Runs every domain in order, like ``PipelineStages``' closure does: each domain timed into `monitor`
    /// under its index, a domain's error tagged with that index, a cancellation seen between domains
    /// thrown as `CancellationError`.
    nonisolated(nonsending) func run(_ input: Input, _ monitor: PipelineMonitor) async throws -> Output
}

/// The first domain of a ``DomainChain``.
public struct FirstDomain<D: AsyncDomain>: DomainChain {
    @usableFromInline let domain: D

    @inlinable
    init(_ domain: D) {
        self.domain = domain
    }

    @inlinable
    public var names: [String] { [domain.name] }

    @inlinable
    @inline(__always)
    public nonisolated(nonsending) func run(_ input: D.Input, _ monitor: PipelineMonitor) async throws -> D.Output {
        try await PipelineStages<D.Input, D.Output>.measure(domain, input, index: 0, monitor)
    }
}

/// A ``DomainChain`` followed by one more domain, which consumes what the chain produces.
public struct NextDomain<Previous: DomainChain, D: AsyncDomain>: DomainChain where D.Input == Previous.Output {
    @usableFromInline let previous: Previous
    @usableFromInline let domain: D
    /// The domain's index in the monitor: how many domains come before it.
    @usableFromInline let index: Int

    @inlinable
    init(_ previous: Previous, _ domain: D) {
        self.previous = previous
        self.domain = domain
        self.index = previous.names.count
    }

    @inlinable
    public var names: [String] { previous.names + [domain.name] }

    @inlinable
    @inline(__always)
    public nonisolated(nonsending) func run(
        _ input: Previous.Input,
        _ monitor: PipelineMonitor
    ) async throws -> D.Output {
        let intermediate = try await previous.run(input, monitor)
        // A message cancelled (send timeout, shutdown) stops at the next domain boundary.
        try Task.checkCancellation()
        return try await PipelineStages<D.Input, D.Output>.measure(domain, intermediate, index: index, monitor)
    }
}
