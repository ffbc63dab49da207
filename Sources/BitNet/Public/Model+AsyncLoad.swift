extension Model {
    /// Loads and validates the GGUF model at `path` without blocking the caller's thread.
    ///
    /// The load runs on a thread of its own. `progress` is called on that
    /// thread with the fraction done (0...1, at least at 0 and 1; reading a
    /// file without `mmap` and preparing each layer report in between).
    /// Cancelling the awaiting task stops the load at its next progress
    /// point and throws a ``BitNetError`` with status ``Status/cancelled``;
    /// `options.progress`, if set, is called too and may also cancel.
    ///
    /// ```swift
    /// let model = try await Model.load(from: "models/bitnet-kjv-tiny.gguf") { fraction in
    ///     print("loading: \(Int(fraction * 100))%")
    /// }
    /// ```
    ///
    /// - Throws: ``BitNetError`` — ``Status/io`` (cannot read the file),
    ///   ``Status/format`` (not a valid model), ``Status/unsupported``
    ///   (an architecture or tensor type this engine does not run),
    ///   ``Status/outOfMemory`` or ``Status/cancelled``.
    public static func load(from path: String, options: ModelLoadOptions = ModelLoadOptions(),
                            progress: (@Sendable (Double) -> Void)? = nil) async throws(BitNetError) -> Model {
        let cancelled = CancellationFlag()
        var options = options
        let callerCallback = options.progress
        options.progress = { fraction in
            progress?(fraction)
            if cancelled.isRaised { return false }
            return callerCallback?(fraction) ?? true
        }
        let loadOptions = options
        let result: Result<Model, BitNetError> = await withTaskCancellationHandler {
            if Task.isCancelled { return .failure(BitNetError(.cancelled, "loading '\(path)' cancelled")) }
            return await runOnOwnThread { () -> Result<Model, BitNetError> in
                do throws(BitNetError) {
                    return .success(try Model.load(path: path, options: loadOptions))
                } catch {
                    return .failure(error)
                }
            }
        } onCancel: {
            cancelled.raise()
        }
        return try result.get()
    }
}
