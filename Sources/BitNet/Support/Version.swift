/// Library version; must agree with the BITNET_VERSION_* macros in include/bitnet.h
/// (a C test checks that the header and the library agree).
package enum Version {
    package static let major: Int32 = 0
    package static let minor: Int32 = 1
    package static let patch: Int32 = 0
    package static let abi: Int32 = 0
    package static let string: StaticString = "0.1.0"
    package static var number: Int32 { major * 10000 + minor * 100 + patch }
}
