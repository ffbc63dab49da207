#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding. NeoX style ("rotate half", the default):
/// dimension i of a head is paired with i + headDim/2 and rotated by
/// pos · theta^(−2i/headDim). Interleaved style (`llama` files): dimension 2i
/// is paired with 2i + 1, same angles.
package struct RoPE: Sendable {
    package typealias Style = HyperParameters.Architecture.RoPEStyle
    package let headDim: Int
    package let style: Style
    /// theta^(−2i/headDim) for i in 0..<headDim/2, computed in Double.
    private let inverseFrequencies: [Double]

    package init(headDim: Int, theta: Double, style: Style = .neox) {
        self.headDim = headDim
        self.style = style
        let half = headDim / 2
        inverseFrequencies = (0..<half).map { pow(theta, -2.0 * Double($0) / Double(headDim)) }
    }

    /// The rotation a model's file asks for (theta and pair style of its arch).
    init(model hp: HyperParameters) {
        self.init(headDim: hp.headDim, theta: Double(hp.ropeTheta), style: hp.architecture?.ropeStyle ?? .neox)
    }

    /// Writes cos/sin of each pair's angle at `position` into `table`
    /// (`headDim` floats: half cosines, then half sines), shared by every head.
    package func fillTable(position: Int, into table: UnsafeMutablePointer<Float>) {
        let half = headDim / 2
        for i in 0..<half {
            let angle = Double(position) * inverseFrequencies[i]
            table[i] = Float(cos(angle))
            table[half + i] = Float(sin(angle))
        }
    }

    /// Rotates `nHeads` consecutive heads of `headDim` floats in place.
    @inline(__always)
    package func apply(_ x: UnsafeMutablePointer<Float>, heads nHeads: Int, table: UnsafePointer<Float>) {
        let half = headDim / 2
        if style == .interleaved {
            for h in 0..<nHeads {
                let head = x + h * headDim
                for i in 0..<half {
                    let c = table[i], s = table[half + i]
                    let a = head[2 * i], b = head[2 * i + 1]
                    head[2 * i] = a * c - b * s
                    head[2 * i + 1] = b * c + a * s
                }
            }
            return
        }
        for h in 0..<nHeads {
            let head = x + h * headDim
            for i in 0..<half {
                let c = table[i], s = table[half + i]
                let a = head[i], b = head[half + i]
                head[i] = a * c - b * s
                head[half + i] = b * c + a * s
            }
        }
    }
}
