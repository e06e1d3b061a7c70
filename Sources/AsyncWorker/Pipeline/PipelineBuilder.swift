/// Builds a pipeline's stages from a list of domains, one per line, as an alternative to
/// ``Pipeline/then(_:)``:
///
/// ```swift
/// let pipeline = Pipeline {
///     Parse()
///     Enrich()
///     Export()
/// }
/// ```
///
/// Each domain must consume what the one above it produces; otherwise the block does not compile.
/// The block is built as a ``DomainChain`` that keeps every domain's type, and only the finished chain is
/// wrapped in one closure: a message runs the domains as one specialised function, which makes a
/// `Pipeline { … }` cheaper per message than the same domains joined with ``Pipeline/then(_:)`` (see
/// ``DomainChain``).
@resultBuilder
public enum PipelineBuilder {
    /// Starts the chain with its first domain.
    @inlinable
    public static func buildPartialBlock<D: AsyncDomain>(first domain: D) -> FirstDomain<D> {
        FirstDomain(domain)
    }

    /// Appends `next` to the chain built so far; requires `next` to consume its output.
    @inlinable
    public static func buildPartialBlock<Chain: DomainChain, D: AsyncDomain>(
        accumulated: Chain,
        next: D
    ) -> NextDomain<Chain, D> where D.Input == Chain.Output {
        NextDomain(accumulated, next)
    }

    /// Wraps the finished chain in the pipeline's stages.
    @inlinable
    public static func buildFinalResult<Chain: DomainChain>(_ chain: Chain) -> PipelineStages<Chain.Input, Chain.Output>
    {
        PipelineStages(chain: chain)
    }
}
