import Synchronization
import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The read() path of MappedFile under injected faults.
@Suite struct MappedFileTests {
    static let path = SharedData.golden("m1-bitnet-relu2-tq1_0.gguf")

    @Test func shortReadsAndInterruptsStillReadEverything() throws {
        let interrupted = Atomic(false)
        let io = FileIO(read: { fd, buffer, count in
            if !interrupted.exchange(true, ordering: .relaxed) {
                errno = EINTR
                return -1
            }
            return Glibc.read(fd, buffer, min(count, 4093))
        })
        let file = try MappedFile(path: Self.path, useMmap: false, io: io)
        let reference = try MappedFile(path: Self.path, useMmap: true)
        #expect(!file.isMapped && reference.isMapped)
        #expect(file.bytes.elementsEqual(reference.bytes))
    }

    @Test func fileThatShrinksWhileReadIsAnIOError() {
        let delivered = Atomic(0)
        let io = FileIO(read: { fd, buffer, count in
            guard delivered.load(ordering: .relaxed) < 1000 else { return 0 }  // the file "ends" early
            let n = Glibc.read(fd, buffer, min(count, 500))
            delivered.add(n, ordering: .relaxed)
            return n
        })
        let error = caught { try MappedFile(path: Self.path, useMmap: false, io: io) }
        #expect(error?.status == .io)
        #expect(error?.message.contains("shrank while being read: got 1000 of 620960 bytes") == true)
    }

    @Test func readErrorsAreIOErrors() {
        let io = FileIO(read: { _, _, _ in
            errno = EIO
            return -1
        })
        let error = caught { try MappedFile(path: Self.path, useMmap: false, io: io) }
        #expect(error?.status == .io)
        #expect(error?.message.contains("cannot read '\(Self.path)' at offset 0: Input/output error") == true)
    }
}
