import BitNet

/// Reads a caller's size-prefixed params struct.
///
/// The caller's struct may be older (shorter) or newer (longer) than ours: we
/// start from our defaults and copy only the bytes both sides know, so fields
/// appended later never break old callers. A NULL pointer means defaults.
func readParams<T>(_ pointer: UnsafePointer<T>?, defaults: T, name: StaticString) throws(BitNetError) -> T {
    guard let pointer else { return defaults }
    let callerSize = Int(UnsafeRawPointer(pointer).loadUnaligned(as: UInt32.self))
    guard callerSize >= MemoryLayout<UInt32>.size else {
        throw .invalidArgument("\(name).size is \(callerSize); fill the struct with its _params_init() function first")
    }
    var result = defaults
    withUnsafeMutableBytes(of: &result) { destination in
        let count = min(callerSize, MemoryLayout<T>.size)
        destination.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: count))
        // Report our own size back in the copy, so code further in sees a consistent struct.
        destination.storeBytes(of: UInt32(MemoryLayout<T>.size), as: UInt32.self)
    }
    return result
}

/// Fills a caller's size-prefixed output struct (info, stats, result),
/// writing only as many bytes as the caller's `size` says it has.
func writeStruct<T>(_ value: T, to pointer: UnsafeMutablePointer<T>, name: StaticString) throws(BitNetError) {
    let callerSize = Int(UnsafeRawPointer(pointer).loadUnaligned(as: UInt32.self))
    guard callerSize >= MemoryLayout<UInt32>.size else {
        throw .invalidArgument("\(name).size is \(callerSize); set it to sizeof(\(name)) first")
    }
    copyPrefix(value, to: pointer, count: callerSize)
}

/// `bitnet_*_params_init_sized`: the defaults into a caller's params struct of
/// `size` bytes (its sizeof when it was compiled), so a struct from an older,
/// shorter header is never written past its end. NULL is ignored.
func writeDefaults<T>(_ defaults: T, to pointer: UnsafeMutablePointer<T>?, size: Int,
                      function: StaticString) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        guard let pointer else { return Status.ok.rawValue }
        guard size >= MemoryLayout<UInt32>.size else {
            throw .invalidArgument("\(function): size is \(size); pass sizeof the params struct")
        }
        copyPrefix(defaults, to: pointer, count: size)
        return Status.ok.rawValue
    }
}

/// Copies the first `count` bytes of `value` (at most all of it) to `pointer`,
/// with the copy's leading `size` field set to the bytes copied.
private func copyPrefix<T>(_ value: T, to pointer: UnsafeMutablePointer<T>, count: Int) {
    var copy = value
    withUnsafeMutableBytes(of: &copy) { source in
        let count = min(count, MemoryLayout<T>.size)
        source.storeBytes(of: UInt32(count), as: UInt32.self)
        UnsafeMutableRawPointer(pointer).copyMemory(from: source.baseAddress!, byteCount: count)
    }
}

/// snprintf-style string output: writes as much as fits plus a NUL, reports
/// the full length (without NUL) in `length`, and fails with
/// BITNET_E_BUFFER_TOO_SMALL when `capacity` cannot hold all of it.
func writeCString(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int,
                  length: UnsafeMutablePointer<Int>?, function: StaticString) throws(BitNetError) -> Int32 {
    let utf8 = Array(text.utf8)
    length?.pointee = utf8.count
    if capacity > 0 {
        guard let buffer else { throw .invalidArgument("\(function): buffer is NULL but capacity is \(capacity)") }
        let copied = min(utf8.count, capacity - 1)
        for i in 0..<copied { buffer[i] = CChar(bitPattern: utf8[i]) }
        buffer[copied] = 0
    }
    guard utf8.count < capacity else {
        throw BitNetError(.bufferTooSmall, "\(function): needs \(utf8.count + 1) bytes, buffer has \(capacity)")
    }
    return Status.ok.rawValue
}
