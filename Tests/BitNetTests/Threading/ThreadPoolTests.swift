import Synchronization
import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ThreadPoolTests {
    /// Counts calls per index with atomics so the check itself is race-free.
    final class Counter: Sendable {
        let counts: Mutex<[Int]>
        init(_ n: Int) { counts = Mutex([Int](repeating: 0, count: n)) }
        func hit(_ i: Int) { counts.withLock { $0[i] += 1 } }
        var values: [Int] { counts.withLock { $0 } }
    }

    @Test(arguments: [1, 2, 3, 4])
    func everyIndexExactlyOnce(threads: Int) throws {
        let pool = try ThreadPool(threadCount: threads, spinIterations: 100)
        for (iteration, n) in ([1, 2, 3, 7, 64, 1000, 2, 1, 0, 5] + Array(repeating: 13, count: 200)).enumerated() {
            let counter = Counter(max(n, 1))
            pool.parallelFor(n) { i in counter.hit(i) }
            let values = counter.values
            #expect(values.prefix(n).allSatisfy { $0 == 1 }, "iteration \(iteration) n \(n)")
        }
    }

    @Test func resultsAreVisibleAfterReturn() throws {
        let pool = try ThreadPool(threadCount: 2)
        var out = [Int](repeating: 0, count: 512)
        for round in 1...300 {
            out.withUnsafeMutableBufferPointer { buffer in
                pool.parallelFor(8) { part in
                    for i in stride(from: part, to: buffer.count, by: 8) { buffer[i] = i &* round }
                }
            }
            #expect(out.enumerated().allSatisfy { $0.element == $0.offset &* round })
        }
    }

    /// A parallelFor inside a body (or while busy) runs serially, no deadlock.
    @Test func nestedCallsRunSerially() throws {
        let pool = try ThreadPool(threadCount: 2)
        let counter = Counter(6 * 5)
        pool.parallelFor(6) { outer in
            pool.parallelFor(5) { inner in counter.hit(outer * 5 + inner) }
        }
        #expect(counter.values.allSatisfy { $0 == 1 })
    }

    /// Workers that went to sleep (spin exhausted) wake up for the next job.
    @Test func wakesSleepingWorkers() throws {
        let pool = try ThreadPool(threadCount: 2, spinIterations: 0)
        for _ in 0..<50 {
            usleep(200)
            let counter = Counter(4)
            pool.parallelFor(4) { i in counter.hit(i) }
            #expect(counter.values.allSatisfy { $0 == 1 })
        }
    }

    @Test func bothThreadsTakePart() throws {
        let pool = try ThreadPool(threadCount: 2)
        let sawOtherThread = Mutex(false)
        let caller = pthread_self()
        for _ in 0..<200 where !sawOtherThread.withLock({ $0 }) {
            pool.parallelFor(2) { _ in
                if pthread_self() != caller { sawOtherThread.withLock { $0 = true } }
                usleep(100)
            }
        }
        let saw = sawOtherThread.withLock { $0 }
        #expect(saw)
    }

    @Test func poolsComeAndGo() throws {
        for threads in [1, 2, 3] {
            let pool = try ThreadPool(threadCount: threads)
            let total = Mutex(0)
            pool.parallelFor(10) { i in total.withLock { $0 += i } }
            let sum = total.withLock { $0 }
            #expect(sum == 45)
        }
        #expect(throws: BitNetError.self) { try ThreadPool(threadCount: 0) }
        #expect(ThreadPool.defaultThreadCount >= 1)
    }
}
