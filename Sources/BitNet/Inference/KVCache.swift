#if canImport(Glibc)
import Glibc
#endif

/// How keys and values are stored. Raw values mirror BITNET_KV_* in bitnet.h.
public enum KVType: Int32, Sendable {
    case f16 = 0
    case f32 = 1

    var bytesPerElement: Int { self == .f16 ? 2 : 4 }
}

/// Keys and values of every layer for positions 0..<capacity.
///
/// Layout per layer: keys[position][kvDim] then values[position][kvDim],
/// kvDim = nHeadKV · headDim, so one position of one layer is contiguous.
public final class KVCache {
    public let layers: Int
    public let capacity: Int
    public let kvDim: Int
    public let type: KVType
    private let storage: UnsafeMutableRawPointer
    private let layerStride: Int  // bytes per layer (keys + values)
    private let rowBytes: Int     // bytes of one position's keys (or values) in one layer

    public static func bytesPerToken(layers: Int, kvDim: Int, type: KVType) throws(BitNetError) -> Int {
        try Memory.checkedProduct([2, layers, kvDim, type.bytesPerElement], what: "KV cache")
    }

    public init(layers: Int, capacity: Int, kvDim: Int, type: KVType) throws(BitNetError) {
        guard capacity > 0 else { throw .invalidArgument("n_ctx must be positive, got \(capacity)") }
        let perToken = try KVCache.bytesPerToken(layers: layers, kvDim: kvDim, type: type)
        let total = try Memory.checkedProduct([perToken, capacity], what: "KV cache for n_ctx \(capacity)")
        storage = try Memory.allocate(bytes: total, what: "KV cache for n_ctx \(capacity)")
        self.layers = layers
        self.capacity = capacity
        self.kvDim = kvDim
        self.type = type
        rowBytes = kvDim * type.bytesPerElement
        layerStride = 2 * capacity * rowBytes
    }

    deinit { free(storage) }

    public var totalBytes: Int { layers * layerStride }

    @inline(__always)
    func keys(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        storage + layer * layerStride + position * rowBytes
    }

    @inline(__always)
    func values(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        storage + layer * layerStride + capacity * rowBytes + position * rowBytes
    }

    /// Stores one position's keys and values (kvDim floats each).
    public func store(layer: Int, position: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
        switch type {
        case .f16:
            HalfVector.store(k, keys(layer: layer, position: position).assumingMemoryBound(to: UInt16.self), kvDim)
            HalfVector.store(v, values(layer: layer, position: position).assumingMemoryBound(to: UInt16.self), kvDim)
        case .f32:
            keys(layer: layer, position: position).copyMemory(from: k, byteCount: rowBytes)
            values(layer: layer, position: position).copyMemory(from: v, byteCount: rowBytes)
        }
    }

    /// Copies positions `range` of every layer from `other` (same shape and type).
    public func copy(from other: KVCache, positions range: Range<Int>) {
        guard !range.isEmpty else { return }
        for layer in 0..<layers {
            let count = range.count * rowBytes
            keys(layer: layer, position: range.lowerBound)
                .copyMemory(from: other.keys(layer: layer, position: range.lowerBound), byteCount: count)
            values(layer: layer, position: range.lowerBound)
                .copyMemory(from: other.values(layer: layer, position: range.lowerBound), byteCount: count)
        }
    }
}
