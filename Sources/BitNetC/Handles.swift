/// Converts between Swift objects and the opaque pointers C callers hold
/// (`bitnet_model *`, `bitnet_context *`, ...).
///
/// `retain` hands C one strong reference (the object lives until `release`);
/// `borrow` looks at the object without changing its reference count. C cannot
/// tell handle types apart, so passing the wrong kind of pointer is the
/// caller's bug, as in any C library.
enum Handle<Object: AnyObject> {
    static func retain(_ object: Object) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(object).toOpaque())
    }

    static func borrow(_ pointer: OpaquePointer) -> Object {
        Unmanaged<Object>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// Drops the reference `retain` created; NULL is ignored.
    static func release(_ pointer: OpaquePointer?) {
        guard let pointer else { return }
        Unmanaged<Object>.fromOpaque(UnsafeRawPointer(pointer)).release()
    }
}
