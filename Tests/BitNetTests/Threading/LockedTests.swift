import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct LockedTests {
    /// Each increment reads, yields the CPU, then writes: without mutual
    /// exclusion the threads interleave inside and updates are lost, so the
    /// total is exact only if the lock holds (and TSan sees the mutex).
    @Test func incrementsUnderContentionAreNeverLost() throws {
        let counter = Locked(0)
        let threads = 4, increments = 2_000
        let workers = try (0..<threads).map { _ in
            try JoinableThread.start("a test thread") {
                for _ in 0..<increments {
                    counter.withLock { value in
                        let seen = value
                        sched_yield()
                        value = seen + 1
                    }
                }
            }
        }
        for worker in workers { worker.join() }
        #expect(counter.withLock { $0 } == threads * increments)
    }

    /// A throwing body passes its typed error out and leaves the lock free.
    @Test func aThrowReleasesTheLock() {
        let locked = Locked([Int]())
        do {
            try locked.withLock { (value: inout [Int]) throws(BitNetError) in
                value.append(1)
                throw .invalidArgument("no")
            }
            Issue.record("withLock did not pass the error out")
        } catch {
            #expect(error.status == .invalidArgument && error.message == "no")
        }
        #expect(locked.withLock { $0 } == [1])
    }
}
