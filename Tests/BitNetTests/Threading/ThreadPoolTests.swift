import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct ThreadPoolTests {
    /// Counts calls per index in plain memory: each index has its own slot,
    /// so the pool must hand every index to one thread only and publish the
    /// writes before parallelFor returns — TSan checks both.
    final class Counter: @unchecked Sendable {
        let counts: UnsafeMutableBufferPointer<Int>
        init(_ n: Int) { counts = .allocate(capacity: n); counts.initialize(repeating: 0) }
        deinit { counts.deallocate() }
        func hit(_ i: Int) { counts[i] += 1 }
        var values: [Int] { Array(counts) }
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
        let otherThread = Counter(2)
        let caller = pthread_self()
        for _ in 0..<200 where otherThread.values == [0, 0] {
            pool.parallelFor(2) { i in
                if pthread_self() != caller { otherThread.hit(i) }
                usleep(100)
            }
        }
        #expect(otherThread.values != [0, 0])
    }

    /// A pool goes (and deinit joins its workers) with its last reference:
    /// a worker holds none, not even while it waits for work.
    @Test func workersDoNotKeepThePoolAlive() throws {
        weak var released: ThreadPool?
        do {
            let pool = try ThreadPool(threadCount: 3)
            pool.parallelFor(6) { _ in }
            released = pool
        }
        #expect(released == nil)
    }

    @Test func poolsComeAndGo() throws {
        for threads in [1, 2, 3] {
            let pool = try ThreadPool(threadCount: threads)
            let seen = Counter(10)
            pool.parallelFor(10) { i in seen.counts[i] = i }
            #expect(seen.values.reduce(0, +) == 45)
        }
        #expect(throws: BitNetError.self) { try ThreadPool(threadCount: 0) }
        #expect(ThreadPool.defaultThreadCount >= 1)
    }
}
