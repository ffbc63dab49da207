import BitNet
import CBitNetAPI

private func cString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func bitnet_version_string() -> UnsafePointer<CChar>? { cString(Version.string) }

@c @implementation
public func bitnet_version_number() -> Int32 { Version.number }

@c @implementation
public func bitnet_abi_version() -> Int32 { Version.abi }

/// Built once, kept for the life of the process (the header promises a static string).
nonisolated(unsafe) private let buildInfo: UnsafeMutablePointer<CChar> = strdupOrEmpty(KernelSet.buildDescription)

@c @implementation
public func bitnet_build_info() -> UnsafePointer<CChar>? { UnsafePointer(buildInfo) }

@c @implementation
public func bitnet_status_string(_ status: Int32) -> UnsafePointer<CChar>? {
    cString(Status(rawValue: status).staticDescription)
}

@c @implementation
public func bitnet_last_error() -> UnsafePointer<CChar>? { LastError.current }
