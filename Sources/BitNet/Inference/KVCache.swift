#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How keys and values are stored. Raw values mirror BITNET_KV_* in bitnet.h.
public enum KVType: Int32, Sendable, CaseIterable {
    case f16 = 0
    case f32 = 1
    /// int8 with a scale per head for positions older than the recent window,
    /// f16 for the window (lossy; see KVQuantization).
    case q8 = 2
}

/// Keys and values of every layer for positions 0..<capacity.
///
/// Layout per layer: keys[position][row] then values[position][row], one row
/// holding the kvDim = nHeadKV · headDim numbers of one position (f16, f32, or
/// KVQuantization's scales + int8), so one position of one layer is contiguous.
///
/// q8 also keeps a ring of f16 rows, `recent[layer][slot][kvDim]` for keys and
/// values, slot = position % ringSlots: attention reads a position in f16 when
/// it is among the last `recentWindow` before the query and its slot still
/// holds it, else the 8-bit row (every position always has one). The ring is
/// `recentWindow + batch` long so the positions a batch writes never evict
/// the ones its own queries still read in f16.
package final class KVCache {
    package let layers: Int
    package let capacity: Int
    package let heads: Int
    package let headDim: Int
    package let kvDim: Int
    package let type: KVType
    /// Positions (before a query, itself included) read in f16 under q8.
    package let recentWindow: Int
    /// The kernel set of the context that owns the cache: it converts rows on
    /// every write (`store`) and read (`load`, attention's staging), so a
    /// context's KV traffic runs the helpers of its own set.
    package let kernels: KernelSet
    let rowBytes: Int             // bytes of one position's keys (or values) in one layer
    private let storage: UnsafeMutableRawPointer
    private let layerStride: Int  // bytes per layer (keys + values)

    // q8 only: the f16 ring and which position each slot holds (-1: none).
    let ringSlots: Int
    private let ring: UnsafeMutableRawPointer?
    private let ringLayerStride: Int
    private let slotPosition: UnsafeMutablePointer<Int>

    package static let defaultRecentWindow = 256

    package static func rowBytes(heads: Int, headDim: Int, type: KVType) throws(BitNetError) -> Int {
        let kvDim = try Memory.checkedProduct([heads, headDim], what: "KV row")
        switch type {
        case .f16: return try Memory.checkedProduct([kvDim, 2], what: "KV row")
        case .f32: return try Memory.checkedProduct([kvDim, 4], what: "KV row")
        case .q8: return KVQuantization.rowBytes(heads: heads, headDim: headDim)
        }
    }

    /// Bytes one position takes in every layer (keys + values), ring excluded.
    package static func bytesPerToken(layers: Int, heads: Int, headDim: Int, type: KVType) throws(BitNetError) -> Int {
        try Memory.checkedProduct([2, layers, rowBytes(heads: heads, headDim: headDim, type: type)], what: "KV cache")
    }

    /// Ring slots q8 needs for a context of `capacity` reading batches of `batch`.
    static func ringSlots(capacity: Int, batch: Int, window: Int) -> Int {
        min(capacity, window + batch)
    }

    /// Total bytes a cache of this shape allocates (the ring included).
    package static func totalBytes(layers: Int, heads: Int, headDim: Int, type: KVType, capacity: Int,
                                  batch: Int, window: Int = defaultRecentWindow) throws(BitNetError) -> Int {
        let perToken = try bytesPerToken(layers: layers, heads: heads, headDim: headDim, type: type)
        var total = try Memory.checkedProduct([perToken, capacity], what: "KV cache for n_ctx \(capacity)")
        if type == .q8 {
            let slots = ringSlots(capacity: capacity, batch: batch, window: window)
            let ringBytes = try Memory.checkedProduct([2, layers, slots, heads, headDim, 2], what: "KV ring")
            let (sum, overflow) = total.addingReportingOverflow(ringBytes)
            guard !overflow else { throw .invalidArgument("KV cache for n_ctx \(capacity): size overflows") }
            total = sum
        }
        return total
    }

    package init(layers: Int, capacity: Int, heads: Int, headDim: Int, type: KVType, batch: Int = 64,
                recentWindow: Int = KVCache.defaultRecentWindow, kernels: KernelSet) throws(BitNetError) {
        guard capacity > 0 else { throw .invalidArgument("n_ctx must be positive, got \(capacity)") }
        guard heads > 0, headDim > 0, batch > 0, recentWindow > 0 else {
            throw .invalidArgument("KV cache: heads, head size, batch and window must be positive")
        }
        let perToken = try KVCache.bytesPerToken(layers: layers, heads: heads, headDim: headDim, type: type)
        let total = try Memory.checkedProduct([perToken, capacity], what: "KV cache for n_ctx \(capacity)")
        storage = try Memory.allocate(bytes: total, what: "KV cache for n_ctx \(capacity)")
        self.layers = layers
        self.capacity = capacity
        self.heads = heads
        self.headDim = headDim
        self.kvDim = heads * headDim
        self.type = type
        self.recentWindow = recentWindow
        self.kernels = kernels
        rowBytes = try KVCache.rowBytes(heads: heads, headDim: headDim, type: type)
        layerStride = 2 * capacity * rowBytes
        let slots = type == .q8 ? KVCache.ringSlots(capacity: capacity, batch: batch, window: recentWindow) : 0
        ringSlots = slots
        ringLayerStride = 2 * slots * kvDim * 2
        do {
            ring = slots > 0 ? try Memory.allocate(bytes: layers * ringLayerStride, what: "KV ring") : nil
        } catch {
            free(storage)
            throw error
        }
        slotPosition = .allocate(capacity: max(slots, 1))
        slotPosition.initialize(repeating: -1, count: max(slots, 1))
    }

    deinit {
        free(storage)
        free(ring)
        slotPosition.deallocate()
    }

    package var totalBytes: Int { layers * layerStride + layers * ringLayerStride }

    @inline(__always)
    func keys(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        storage + layer * layerStride + position * rowBytes
    }

    @inline(__always)
    func values(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        storage + layer * layerStride + capacity * rowBytes + position * rowBytes
    }

    @inline(__always)
    private func recentKeys(layer: Int, slot: Int) -> UnsafeMutablePointer<UInt16> {
        (ring.unsafelyUnwrapped + layer * ringLayerStride + slot * kvDim * 2).assumingMemoryBound(to: UInt16.self)
    }

    @inline(__always)
    private func recentValues(layer: Int, slot: Int) -> UnsafeMutablePointer<UInt16> {
        (ring.unsafelyUnwrapped + layer * ringLayerStride + (ringSlots + slot) * kvDim * 2)
            .assumingMemoryBound(to: UInt16.self)
    }

    /// The f16 keys and values of `position` under q8, when the ring holds them
    /// and they are within the window of a query at `query`.
    @inline(__always)
    func recent(layer: Int, position: Int, query: Int) -> (keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>)? {
        guard position > query - recentWindow else { return nil }
        let slot = position % ringSlots
        guard slotPosition[slot] == position else { return nil }
        return (UnsafePointer(recentKeys(layer: layer, slot: slot)), UnsafePointer(recentValues(layer: layer, slot: slot)))
    }

    /// Stores one position's keys and values (kvDim floats each).
    package func store(layer: Int, position: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
        switch type {
        case .f16:
            HalfVector.store(k, keys(layer: layer, position: position).assumingMemoryBound(to: UInt16.self), kvDim,
                             kernels: kernels)
            HalfVector.store(v, values(layer: layer, position: position).assumingMemoryBound(to: UInt16.self), kvDim,
                             kernels: kernels)
        case .f32:
            keys(layer: layer, position: position).copyMemory(from: k, byteCount: rowBytes)
            values(layer: layer, position: position).copyMemory(from: v, byteCount: rowBytes)
        case .q8:
            KVQuantization.quantize(k, heads: heads, headDim: headDim, into: keys(layer: layer, position: position))
            KVQuantization.quantize(v, heads: heads, headDim: headDim, into: values(layer: layer, position: position))
            let slot = position % ringSlots
            HalfVector.store(k, recentKeys(layer: layer, slot: slot), kvDim, kernels: kernels)
            HalfVector.store(v, recentValues(layer: layer, slot: slot), kvDim, kernels: kernels)
            slotPosition[slot] = position
        }
    }

    /// Reads one position's keys and values back as floats (the f16 ring when it holds them).
    func load(layer: Int, position: Int, keys k: UnsafeMutablePointer<Float>, values v: UnsafeMutablePointer<Float>) {
        switch type {
        case .f16:
            HalfVector.load(keys(layer: layer, position: position).assumingMemoryBound(to: UInt16.self), k, kvDim,
                            kernels: kernels)
            HalfVector.load(values(layer: layer, position: position).assumingMemoryBound(to: UInt16.self), v, kvDim,
                            kernels: kernels)
        case .f32:
            k.update(from: keys(layer: layer, position: position).assumingMemoryBound(to: Float.self), count: kvDim)
            v.update(from: values(layer: layer, position: position).assumingMemoryBound(to: Float.self), count: kvDim)
        case .q8:
            if let recent = recent(layer: layer, position: position, query: position) {
                HalfVector.load(recent.keys, k, kvDim, kernels: kernels)
                HalfVector.load(recent.values, v, kvDim, kernels: kernels)
            } else {
                KVQuantization.dequantize(keys(layer: layer, position: position), heads: heads, headDim: headDim, into: k)
                KVQuantization.dequantize(values(layer: layer, position: position), heads: heads, headDim: headDim, into: v)
            }
        }
    }

    /// Copies positions `range` of every layer from `other` (same shape and type).
    package func copy(from other: KVCache, positions range: Range<Int>) {
        guard !range.isEmpty else { return }
        for layer in 0..<layers {
            let count = range.count * rowBytes
            keys(layer: layer, position: range.lowerBound)
                .copyMemory(from: other.keys(layer: layer, position: range.lowerBound), byteCount: count)
            values(layer: layer, position: range.lowerBound)
                .copyMemory(from: other.values(layer: layer, position: range.lowerBound), byteCount: count)
        }
        for position in range where type == .q8 {
            let slot = position % ringSlots
            slotPosition[slot] = -1
            guard other.slotPosition[slot] == position else { continue }
            for layer in 0..<layers {
                recentKeys(layer: layer, slot: slot).update(from: other.recentKeys(layer: layer, slot: slot), count: kvDim)
                recentValues(layer: layer, slot: slot).update(from: other.recentValues(layer: layer, slot: slot), count: kvDim)
            }
            slotPosition[slot] = position
        }
    }

    // MARK: - Snapshots (prefix cache, state files)

    /// A snapshot of positions 0..<count: per layer keys[count][row] then
    /// values[count][row]; under q8 then the ring part of the last
    /// w = min(recentWindow, count) positions: w validity bytes (padded to 8),
    /// then per layer keys[w][kvDim] and values[w][kvDim] in f16.
    package func snapshotBytes(count: Int) -> Int {
        var bytes = 2 * layers * count * rowBytes
        if type == .q8 {
            let w = min(recentWindow, count)
            bytes += (w + 7) / 8 * 8 + 2 * layers * w * kvDim * 2
        }
        return bytes
    }

    /// Writes the snapshot of positions 0..<count (count <= capacity) to `out`.
    package func writeSnapshot(count: Int, to out: UnsafeMutableRawPointer) {
        var cursor = out
        for layer in 0..<layers {
            cursor.copyMemory(from: keys(layer: layer, position: 0), byteCount: count * rowBytes)
            cursor += count * rowBytes
            cursor.copyMemory(from: values(layer: layer, position: 0), byteCount: count * rowBytes)
            cursor += count * rowBytes
        }
        guard type == .q8 else { return }
        let w = min(recentWindow, count), first = count - w
        let flags = cursor.assumingMemoryBound(to: UInt8.self)
        for i in 0..<((w + 7) / 8 * 8) { flags[i] = i < w && slotPosition[(first + i) % ringSlots] == first + i ? 1 : 0 }
        cursor += (w + 7) / 8 * 8
        for layer in 0..<layers {
            for i in 0..<w {
                let slot = (first + i) % ringSlots
                (cursor + 2 * i * kvDim).copyMemory(from: recentKeys(layer: layer, slot: slot), byteCount: kvDim * 2)
                (cursor + 2 * (w + i) * kvDim).copyMemory(from: recentValues(layer: layer, slot: slot), byteCount: kvDim * 2)
            }
            cursor += 2 * 2 * w * kvDim
        }
    }

    /// Restores positions `range` from a snapshot of `storedCount` positions
    /// (range within 0..<storedCount, storedCount <= capacity). Positions whose
    /// f16 ring rows the snapshot lacks are read from their 8-bit rows.
    package func restore(snapshot: UnsafeRawPointer, storedCount: Int, positions range: Range<Int>) {
        guard !range.isEmpty else { return }
        var cursor = snapshot
        let n = range.count * rowBytes, skip = range.lowerBound * rowBytes
        for layer in 0..<layers {
            keys(layer: layer, position: range.lowerBound).copyMemory(from: cursor + skip, byteCount: n)
            cursor += storedCount * rowBytes
            values(layer: layer, position: range.lowerBound).copyMemory(from: cursor + skip, byteCount: n)
            cursor += storedCount * rowBytes
        }
        guard type == .q8 else { return }
        let w = min(recentWindow, storedCount), first = storedCount - w
        let flags = cursor.assumingMemoryBound(to: UInt8.self)
        cursor += (w + 7) / 8 * 8
        for position in range {
            let slot = position % ringSlots
            if slotPosition[slot] == position { slotPosition[slot] = -1 }
            let i = position - first
            guard i >= 0, flags[i] != 0 else { continue }
            for layer in 0..<layers {
                let base = cursor + layer * 2 * 2 * w * kvDim
                recentKeys(layer: layer, slot: slot).update(
                    from: (base + 2 * i * kvDim).assumingMemoryBound(to: UInt16.self), count: kvDim)
                recentValues(layer: layer, slot: slot).update(
                    from: (base + 2 * (w + i) * kvDim).assumingMemoryBound(to: UInt16.self), count: kvDim)
            }
            slotPosition[slot] = position
        }
    }
}
