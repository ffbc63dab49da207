/// The Swift face of the generation loop: `for try await chunk in generator.chunks { ... }`.
///
/// Each step runs inside `context.exclusive`, so another call on the context
/// between two chunks fails with BITNET_E_BUSY only while a step runs; a
/// context changed between steps makes the next step fail (see `Generator`).
/// Steps run synchronously on the awaiting task (a step is one forward pass).
public struct GenerationChunks: AsyncSequence {
    public typealias Element = GenerationChunk
    let generator: Generator

    public struct AsyncIterator: AsyncIteratorProtocol {
        let generator: Generator

        public mutating func next() async throws -> GenerationChunk? {
            try generator.step()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(generator: generator) }
}

extension Generator {
    /// The chunks as an `AsyncSequence`.
    public var chunks: GenerationChunks { GenerationChunks(generator: self) }

    /// One `next()` as the only user of the context.
    public func step() throws(BitNetError) -> GenerationChunk? {
        try context.exclusive { () throws(BitNetError) -> GenerationChunk? in try next() }
    }
}
