import ArgumentParser
import BitNet
import Foundation

/// `bitnet bench --sequences`: S contexts in one `Batch`, each on its own
/// thread, each evaluating -n decode tokens after a short prompt. The rows
/// report the aggregate tokens/s (all sequences' tokens over the wall time)
/// and the per-stream rate, like llama-batched-bench's S_TG at -npl S.
struct BatchedGenerationTest {
    let model: Model
    let threads: Int
    let kvType: KVType
    let promptLength: Int
    let generated: Int

    struct Outcome {
        var aggregate: Double
        var perStream: Double
        var meanBatchSize: Double
    }

    func run(sequences: Int, vocabulary: Int, seed: UInt64) throws -> Outcome {
        var batchOptions = BatchOptions()
        batchOptions.maxSequences = sequences
        batchOptions.threads = threads
        let batch = try Batch(model: model, options: batchOptions)
        var contextOptions = ContextOptions()
        contextOptions.kvType = kvType
        contextOptions.contextLength = promptLength + generated + 1
        contextOptions.batch = batch
        let contexts = try (0..<sequences).map { _ in try Context(model: model, options: contextOptions) }

        // Every sequence reads its prompt first; the decode phase starts when all are ready,
        // so the rows time decode steps only (prompts are the pp rows' business).
        let ready = Barrier(count: sequences + 1)
        let go = Barrier(count: sequences + 1)
        let failures = Locked<[String]>([])
        var workers: [Thread] = []
        for (index, context) in contexts.enumerated() {
            let worker = Thread {
                var rng = SplitMix64(seed: seed &+ UInt64(index))
                let prompt = (0..<promptLength).map { _ in Int32(rng.next() % UInt64(vocabulary)) }
                do {
                    try context.exclusive { () throws(BitNetError) in
                        try prompt.withUnsafeBufferPointer { (p) throws(BitNetError) in try context.eval(p) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                ready.arrive()
                go.arrive()
                do {
                    try context.exclusive { () throws(BitNetError) in
                        var token: [Int32] = [Int32(rng.next() % UInt64(vocabulary))]
                        for _ in 0..<generated {
                            try token.withUnsafeBufferPointer { (t) throws(BitNetError) in try context.eval(t) }
                            token[0] = Int32(rng.next() % UInt64(vocabulary))
                        }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                ready.arrive()
            }
            worker.stackSize = 8 << 20
            workers.append(worker)
        }
        workers.forEach { $0.start() }
        ready.arrive()  // prompts done
        let before = batch.statistics
        let start = ContinuousClock.now
        go.arrive()
        ready.arrive()  // decode done (the barrier is reusable)
        let elapsed = seconds(since: start)
        let after = batch.statistics
        if let failure = failures.withLock({ $0.first }) { throw ValidationError("batched test failed: \(failure)") }
        let steps = Double(after.steps - before.steps)
        let segments = Double(after.segments - before.segments)
        return Outcome(aggregate: Double(sequences * generated) / elapsed, perStream: Double(generated) / elapsed,
                       meanBatchSize: steps > 0 ? segments / steps : 0)
    }
}

/// A reusable barrier for `count` threads (each phase releases when all arrived).
final class Barrier: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private var arrived = 0
    private var phase = 0

    init(count: Int) { self.count = count }

    func arrive() {
        condition.lock()
        defer { condition.unlock() }
        let myPhase = phase
        arrived += 1
        if arrived == count {
            arrived = 0
            phase += 1
            condition.broadcast()
            return
        }
        while phase == myPhase { condition.wait() }
    }
}
