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
@resultBuilder
public enum PipelineBuilder {
    /// Starts the stages with their first domain.
    @inlinable
    public static func buildPartialBlock<D: AsyncDomain>(first domain: D) -> PipelineStages<D.Input, D.Output> {
        PipelineStages(domain)
    }

    /// Appends `next` to the stages built so far; requires `next` to consume their output.
    @inlinable
    public static func buildPartialBlock<Input, Intermediate, D: AsyncDomain>(
        accumulated: PipelineStages<Input, Intermediate>,
        next: D
    ) -> PipelineStages<Input, D.Output> where D.Input == Intermediate {
        accumulated.appending(next)
    }
}
