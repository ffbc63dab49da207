/// Bounds that keep nested, huge or pathological grammars and schemas from
/// crashing, hanging or taking unbounded memory. Input over a parse limit is
/// rejected with BITNET_E_INVALID_ARGUMENT and a message naming the limit;
/// the matcher limits make a path that exceeds them a dead end (documented in
/// bitnet.h), or fail the generation when a grammar is too ambiguous.
package enum GrammarLimits {
    /// Largest GBNF text accepted, in bytes (grammars made from a schema included).
    package static let maxGrammarBytes = 4 << 20
    /// Largest JSON Schema text accepted, in bytes.
    package static let maxSchemaBytes = 1 << 20
    /// Deepest nesting of groups in GBNF, of arrays/objects in JSON, of groups in a `pattern`.
    package static let maxNesting = 256
    /// Most rules, those made for groups and repetitions included.
    package static let maxRules = 1 << 18
    /// Largest bound in `{m}`, `{m,}`, `{m,n}` (and a schema's maxLength/maxItems).
    package static let maxRepetition = 65_536
    /// Most grammar elements after repetitions are expanded (4 bytes each).
    package static let maxElements = 1 << 22
    /// Deepest rule nesting the matcher follows; a deeper path is a dead end.
    package static let maxStackDepth = 2048
    /// Most parse stacks alive at once (an ambiguous grammar has several); more fails the generation.
    package static let maxStacksPerState = 8192
    /// Steps one closure (following rules without consuming input) may take before failing.
    package static let maxClosureSteps = 1 << 20
    /// Matcher states kept before its caches are flushed (each has a 1 KiB transition table).
    package static let maxCachedStates = 1 << 15
    /// States one operation (one token's mask: a walk of the whole vocabulary) may create
    /// before the caches can be flushed; more fails the generation instead of growing (128 MiB).
    package static let maxStatesPerOperation = 1 << 17
    /// Bytes of token masks cached per generation before the cache is flushed.
    package static let maxMaskCacheBytes = 64 << 20
}
